"""The ``mongodb://`` URL: pymongo's own options, and Pinsphere's.

A URL names the server and the database like any MongoDB connection string::

    mongodb://user:secret@db1:27017,db2:27017/pins?replicaSet=rs0&collection_prefix=pinsphere_
    mongodb+srv://cluster.example.net/pins?retryWrites=true

The options Pinsphere defines itself (:class:`MongoOptions`) are taken out of the query
string and checked by a strict model; every other option is pymongo's, passed through in
the connection string and validated by pymongo's own parser, so a misspelt option is an
error rather than silently ignored. Without a database in the path, ``pinsphere`` is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from pydantic import Field, ValidationError
from pymongo import uri_parser

from pinsphere.backends.base import BackendOptions
from pinsphere.backends.mongo.errors import translating
from pinsphere.errors import InvalidInput

__all__ = ["DEFAULT_DATABASE", "MongoOptions", "MongoTarget", "parse_mongo_url"]

DEFAULT_DATABASE = "pinsphere"

_SCHEMES = ("mongodb://", "mongodb+srv://")


class MongoOptions(BackendOptions):
    """Pinsphere's own options of a ``mongodb://`` URL.

    Attributes:
        collection_prefix: Put before every collection name, so that several stores can
            share one database (letters, digits and ``_`` only).
        create_indexes: Create the collections' indexes on open (turn off where the
            account may not, and the indexes are managed by hand).
    """

    collection_prefix: str = Field(default="", pattern=r"^[A-Za-z0-9_]{0,48}$")
    create_indexes: bool = True


@dataclass(frozen=True)
class MongoTarget:
    """What a URL names.

    Attributes:
        client_url: The connection string for pymongo (Pinsphere's options removed).
        database: The database name.
        options: Pinsphere's options.
    """

    client_url: str
    database: str
    options: MongoOptions


def parse_mongo_url(url: str) -> MongoTarget:
    """Split a ``mongodb://`` or ``mongodb+srv://`` URL into pymongo's part and ours.

    Raises:
        InvalidInput: Not a MongoDB URL, or an option is unknown or has a bad value.
    """
    if not isinstance(url, str) or not url.lower().startswith(_SCHEMES):
        raise InvalidInput("a MongoDB URL starts with mongodb:// or mongodb+srv://")
    base, _, query = url.partition("?")
    ours: dict[str, str] = {}
    theirs: list[tuple[str, str]] = []
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name in MongoOptions.model_fields:
            ours[name] = value
        else:
            theirs.append((name, value))
    try:
        options = MongoOptions.model_validate(ours)
    except ValidationError as exc:
        raise InvalidInput(f"bad options in backend URL: {exc}") from exc
    client_url = f"{base}?{urlencode(theirs)}" if theirs else base
    with translating():
        # warn=False makes an unknown pymongo option an error, not a warning.
        parsed = uri_parser.parse_uri(client_url, warn=False)
    database = parsed.get("database") or DEFAULT_DATABASE
    return MongoTarget(client_url=client_url, database=database, options=options)
