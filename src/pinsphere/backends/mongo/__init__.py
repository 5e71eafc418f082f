"""The MongoDB metadata backend (``mongodb://`` and ``mongodb+srv://``), on pymongo.

Needs the ``mongo`` extra (``pip install 'pinsphere[mongo]'``). The modules:

* :mod:`~pinsphere.backends.mongo.options` — the URL and its options;
* :mod:`~pinsphere.backends.mongo.documents` — document layout and indexes;
* :mod:`~pinsphere.backends.mongo.filters` — the access rule and searches as filters;
* :mod:`~pinsphere.backends.mongo.sharing` — shares, links and the audit trail;
* :mod:`~pinsphere.backends.mongo.errors` — pymongo errors into :mod:`pinsphere.errors`;
* :mod:`~pinsphere.backends.mongo.metadata` — the backend itself.
"""

from __future__ import annotations

from pinsphere.backends.mongo.metadata import MongoMetadataBackend
from pinsphere.backends.mongo.options import MongoOptions, parse_mongo_url

__all__ = ["MongoMetadataBackend", "MongoOptions", "parse_mongo_url"]
