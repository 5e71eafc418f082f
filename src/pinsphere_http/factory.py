"""The app factory ``pinsphere serve`` hands to uvicorn.

Each worker process calls :func:`app_from_environment` and opens its own store from the
``PINSPHERE_*_URL`` variables (``pinsphere serve`` sets them from ``--data`` and its other
options), so workers share nothing but the backends.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI

import pinsphere
from pinsphere_http.app import create_app

__all__ = ["app_from_environment", "log_config"]


def app_from_environment() -> FastAPI:
    """A new app over a store opened from the environment; the app closes it on shutdown."""
    return create_app(pinsphere.open(), close_store=True)


def log_config() -> dict[str, Any]:
    """uvicorn's logging setup, plus the service's loggers with the request id in each line."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"request_id": {"()": "pinsphere_http.request_id.RequestIdLogFilter"}}
    config["formatters"]["pinsphere"] = {
        "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
    }
    config["handlers"]["pinsphere"] = {
        "formatter": "pinsphere",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "filters": ["request_id"],
    }
    for name in ("pinsphere", "pinsphere_http"):
        config["loggers"][name] = {"handlers": ["pinsphere"], "level": "INFO", "propagate": False}
    return config
