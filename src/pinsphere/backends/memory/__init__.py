"""In-process backends for the ``memory://`` URL scheme.

:class:`~pinsphere.backends.memory.metadata.MemoryMetadataBackend` and
:class:`~pinsphere.backends.memory.users.MemoryUserBackend` keep everything in Python
dictionaries behind a lock. They are the reference semantics of the backend interfaces (the
conformance suite in :mod:`pinsphere.testing` is checked against them first) and the test
double for code built on :class:`~pinsphere.PinStore`.

Every ``from_url("memory://")`` call opens a fresh, empty store that nothing else shares, so
these backends suit tests and throw-away sessions, not several processes.

The submodules are not imported here, so that the registry's ``"module:Class"`` paths load
only the backend a URL asks for.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import ClassVar, Self

from pinsphere.backends.base import BackendOptions, split_options
from pinsphere.errors import BackendUnavailable, InvalidInput

__all__ = ["InMemory", "MemoryOptions", "keys_after", "parse_memory_url"]


def keys_after(keys: Iterable[str], after: str | None, limit: int) -> list[str]:
    """One keyset page of a dictionary's keys: the ``limit`` smallest above ``after``
    (from the start when ``None``), ascending, without sorting every key."""
    return heapq.nsmallest(limit, (key for key in keys if after is None or key > after))


class MemoryOptions(BackendOptions):
    """The ``memory://`` backends take no options; any query parameter is an error."""


def parse_memory_url(url: str) -> MemoryOptions:
    """Check that ``url`` names an in-memory store and read its options.

    Args:
        url: ``memory://`` (anything after the scheme is ignored; each store is fresh).

    Returns:
        The (empty) options.

    Raises:
        InvalidInput: The scheme is not ``memory`` or the URL has options.
    """
    scheme, sep, _ = url.partition("://")
    if not sep or scheme.lower() != "memory":
        raise InvalidInput(f"not a memory:// URL: {url!r}")
    _, options = split_options(url, MemoryOptions)
    return options


class InMemory:
    """Opening, closing and health of an in-memory backend.

    Subclasses name themselves in :attr:`backend_name` (for the closed-store message) and
    call ``super().__init__()``.
    """

    backend_name: ClassVar[str]

    def __init__(self) -> None:
        self._closed = False

    @classmethod
    def from_url(cls, url: str) -> Self:
        """Open a fresh, empty store for ``memory://``.

        Raises:
            InvalidInput: The URL is not ``memory://`` or carries options.
        """
        parse_memory_url(url)
        return cls()

    def close(self) -> None:
        """Mark the store closed; :meth:`ping` fails afterwards, the data stays readable."""
        self._closed = True

    def ping(self) -> None:
        """Check the store is open.

        Raises:
            BackendUnavailable: :meth:`close` was called.
        """
        if self._closed:
            raise BackendUnavailable(f"the memory {self.backend_name} backend is closed")
