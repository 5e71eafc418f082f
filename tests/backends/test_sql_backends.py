"""The SQL backends on SQLite and PostgreSQL: the conformance suites, plus what is SQL's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pinsphere.backends.base import MetadataBackend, UserBackend
from pinsphere.backends.sql.metadata import SQLMetadataBackend
from pinsphere.backends.sql.users import SQLUserBackend
from pinsphere.testing.metadata import MetadataBackendSuite
from pinsphere.testing.users import UserBackendSuite


class TestSQLUsers(UserBackendSuite):
    """The user suite on a fresh SQLite file and a fresh PostgreSQL schema."""

    @pytest.fixture
    def backend(self, database_url: str) -> Iterator[UserBackend]:
        backend = SQLUserBackend.from_url(database_url)
        yield backend
        backend.close()


class TestSQLMetadata(MetadataBackendSuite):
    """The metadata suite on a fresh SQLite file and a fresh PostgreSQL schema."""

    @pytest.fixture
    def backend(self, database_url: str) -> Iterator[MetadataBackend]:
        backend = SQLMetadataBackend.from_url(database_url)
        yield backend
        backend.close()
