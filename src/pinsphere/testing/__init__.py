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
"""

from pinsphere.testing.blobs import BlobBackendSuite
from pinsphere.testing.metadata import MetadataBackendSuite
from pinsphere.testing.users import UserBackendSuite

__all__ = ["BlobBackendSuite", "MetadataBackendSuite", "UserBackendSuite"]
