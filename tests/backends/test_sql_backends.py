"""The SQL backends on SQLite and PostgreSQL: the conformance suites, plus what is SQL's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pinsphere.backends.base import UserBackend
from pinsphere.backends.sql.users import SQLUserBackend
from pinsphere.testing.users import UserBackendSuite


class TestSQLUsers(UserBackendSuite):
    """The user suite on a fresh SQLite file and a fresh PostgreSQL schema."""

    @pytest.fixture
    def backend(self, database_url: str) -> Iterator[UserBackend]:
        backend = SQLUserBackend.from_url(database_url)
        yield backend
        backend.close()
