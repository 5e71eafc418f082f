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

from pinsphere.backends.base import BackendOptions, split_options
from pinsphere.errors import InvalidInput

__all__ = ["MemoryOptions", "parse_memory_url"]


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
