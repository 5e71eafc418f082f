"""The memory backends against the conformance suites."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pinsphere.backends.memory.metadata import MemoryMetadataBackend
from pinsphere.backends.memory.users import MemoryUserBackend
from pinsphere.errors import BackendUnavailable, InvalidInput
from pinsphere.testing.metadata import MetadataBackendSuite
from pinsphere.testing.users import UserBackendSuite


class TestMemoryMetadata(MetadataBackendSuite):
    @pytest.fixture
    def backend(self) -> Iterator[MemoryMetadataBackend]:
        backend = MemoryMetadataBackend.from_url("memory://")
        yield backend
        backend.close()


class TestMemoryUsers(UserBackendSuite):
    @pytest.fixture
    def backend(self) -> Iterator[MemoryUserBackend]:
        backend = MemoryUserBackend.from_url("memory://")
        yield backend
        backend.close()


@pytest.mark.parametrize("backend_class", [MemoryMetadataBackend, MemoryUserBackend])
class TestMemoryURLs:
    def test_each_url_opens_an_independent_store(
        self, backend_class: type[MemoryMetadataBackend] | type[MemoryUserBackend]
    ) -> None:
        assert backend_class.from_url("memory://") is not backend_class.from_url("memory://")

    @pytest.mark.parametrize("url", ["sqlite:///x.db", "memory", "memory://?unknown=1"])
    def test_other_urls_and_options_are_rejected(
        self, backend_class: type[MemoryMetadataBackend] | type[MemoryUserBackend], url: str
    ) -> None:
        with pytest.raises(InvalidInput):
            backend_class.from_url(url)

    def test_ping_fails_after_close(
        self, backend_class: type[MemoryMetadataBackend] | type[MemoryUserBackend]
    ) -> None:
        backend = backend_class.from_url("MEMORY://")
        backend.ping()
        backend.close()
        with pytest.raises(BackendUnavailable):
            backend.ping()


def test_metadata_stores_do_not_share_pins() -> None:
    from pinsphere.query import Query
    from pinsphere.testing.factories import EVERYTHING, make_pin

    first = MemoryMetadataBackend.from_url("memory://")
    second = MemoryMetadataBackend.from_url("memory://")
    first.insert_pins([(make_pin(), ())])
    assert second.count_pins(Query(), EVERYTHING) == 0
    assert first.count_pins(Query(), EVERYTHING) == 1


def test_user_stores_do_not_share_users() -> None:
    from pinsphere.testing.factories import make_user

    first = MemoryUserBackend.from_url("memory://")
    second = MemoryUserBackend.from_url("memory://")
    first.create_user(make_user("alice"), None)
    assert second.find_user("alice") is None
