"""Pinsphere over HTTP: a FastAPI adapter serving a PinStore as a REST service.

>>> import pinsphere, pinsphere_http                         # doctest: +SKIP
>>> app = pinsphere_http.create_app(pinsphere.open("./pinsphere-data"))
"""

from pinsphere_http.app import create_app
from pinsphere_http.settings import HTTPSettings

__all__ = ["HTTPSettings", "create_app"]
