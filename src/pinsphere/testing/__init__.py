"""The conformance suite every backend runs (install ``pinsphere[testing]``).

A backend's test module subclasses the suite for its kind and provides a fixture that makes a
fresh backend::

    import pytest
    from pinsphere.testing import MetadataBackendSuite

    class TestMyMetadata(MetadataBackendSuite):
        @pytest.fixture
        def backend(self):
            backend = MyMetadataBackend.from_url("my://...")
            yield backend
            backend.close()

The suites import pytest and hypothesis, so they are loaded only when named:
``pinsphere.testing.media`` (small real media files) works without either.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pinsphere.testing.blobs import BlobBackendSuite
    from pinsphere.testing.metadata import MetadataBackendSuite
    from pinsphere.testing.users import UserBackendSuite

__all__ = ["BlobBackendSuite", "MetadataBackendSuite", "UserBackendSuite"]

_SUITES = {
    "BlobBackendSuite": "pinsphere.testing.blobs",
    "MetadataBackendSuite": "pinsphere.testing.metadata",
    "UserBackendSuite": "pinsphere.testing.users",
}


def __getattr__(name: str) -> Any:
    module = _SUITES.get(name)
    if module is None:
        raise AttributeError(f"module 'pinsphere.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
