"""The registry of backends, keyed by URL scheme, that plugins fill.

A backend may be registered as its class or as a ``"module:Class"`` path; a path is imported
only when a URL with its scheme is opened, so that installing Pinsphere with every extra
does not make ``import pinsphere`` import every driver.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Literal, TypeVar

from pinsphere.backends.base import BlobBackend, MetadataBackend, UserBackend
from pinsphere.errors import UnknownBackend

__all__ = ["BackendKind", "BackendRegistry", "Registration", "scheme_of"]

BackendKind = Literal["metadata", "users", "blobs"]
B = TypeVar("B", MetadataBackend, UserBackend, BlobBackend)

# Schemes Pinsphere knows how to serve once the named extra is installed; used for the hint
# when nothing registered them (e.g. a plugin that is not installed).
_KNOWN_EXTRAS: dict[str, str] = {
    "postgresql": "postgres",
    "postgresql+psycopg": "postgres",
    "mongodb": "mongo",
    "mongodb+srv": "mongo",
    "s3": "s3",
}


def scheme_of(url: str) -> str:
    """The scheme of a backend URL, lower-cased (``""`` when it has none)."""
    head, sep, _ = url.partition("://")
    return head.lower() if sep else ""


@dataclass(frozen=True)
class Registration:
    """One backend class (or the path to it) under one scheme.

    Attributes:
        scheme: The URL scheme, lower-case.
        target: The class, or a ``"module:Class"`` path to import on first use.
        extra: The pip requirement that provides the backend's dependencies, for hints.
    """

    scheme: str
    target: type | str
    extra: str | None = None

    def load(self, base: type[B]) -> type[B]:
        """Import and return the backend class.

        Raises:
            UnknownBackend: Its module, or a driver it needs, is not installed.
        """
        if isinstance(self.target, str):
            module_name, _, attr = self.target.partition(":")
            cls = self._import(module_name, attr)
        else:
            cls = self.target
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise UnknownBackend(f"{self.target} is not a {base.__name__}", scheme=self.scheme)
        return cls

    def _import(self, module_name: str, attr: str) -> object:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise UnknownBackend(
                f"the backend for {self.scheme}:// cannot be imported ({exc})",
                scheme=self.scheme,
                hint=_install_hint(self.extra),
            ) from exc
        return getattr(module, attr, None)


def _install_hint(extra: str | None) -> str | None:
    if extra is None:
        return None
    if "[" in extra or " " in extra:
        return f"install it with: pip install '{extra}'"
    return f"install it with: pip install 'pinsphere[{extra}]'"


class BackendRegistry:
    """Backends by kind and URL scheme, as registered by plugins.

    Plugins receive it in ``pinsphere_register_backends(registry)``.
    """

    def __init__(self) -> None:
        self._entries: dict[BackendKind, dict[str, Registration]] = {
            "metadata": {},
            "users": {},
            "blobs": {},
        }

    def _add(self, kind: BackendKind, scheme: str, target: type | str, extra: str | None) -> None:
        scheme = scheme.lower()
        self._entries[kind][scheme] = Registration(scheme=scheme, target=target, extra=extra)

    def add_metadata_backend(
        self, scheme: str, backend: type[MetadataBackend] | str, *, extra: str | None = None
    ) -> None:
        """Register a metadata backend for URLs with ``scheme``.

        Args:
            scheme: URL scheme, e.g. ``"sqlite"``. A later registration replaces an earlier.
            backend: The class, or ``"module:Class"`` to import on first use.
            extra: What to ``pip install`` when the import fails: an extra of Pinsphere
                (``"postgres"``) or a full requirement (``"my-plugin[couch]"``).
        """
        self._add("metadata", scheme, backend, extra)

    def add_user_backend(
        self, scheme: str, backend: type[UserBackend] | str, *, extra: str | None = None
    ) -> None:
        """Register a user backend for URLs with ``scheme`` (arguments as above)."""
        self._add("users", scheme, backend, extra)

    def add_blob_backend(
        self, scheme: str, backend: type[BlobBackend] | str, *, extra: str | None = None
    ) -> None:
        """Register a blob backend for URLs with ``scheme`` (arguments as above)."""
        self._add("blobs", scheme, backend, extra)

    def schemes(self, kind: BackendKind) -> list[str]:
        """The registered schemes of one kind, sorted."""
        return sorted(self._entries[kind])

    def registration(self, kind: BackendKind, scheme: str) -> Registration:
        """The registration for a scheme.

        Raises:
            UnknownBackend: Nothing is registered for it; the message names the extra to
                install when the scheme is one Pinsphere knows.
        """
        entry = self._entries[kind].get(scheme.lower())
        if entry is None:
            known = ", ".join(self.schemes(kind)) or "none"
            raise UnknownBackend(
                f"no {kind} backend for {scheme or '(no scheme)'}:// (registered: {known})",
                scheme=scheme,
                hint=_install_hint(_KNOWN_EXTRAS.get(scheme.lower())),
            )
        return entry

    def metadata_backend(self, url: str) -> MetadataBackend:
        """Open the metadata backend a URL names."""
        entry = self.registration("metadata", scheme_of(url))
        return entry.load(MetadataBackend).from_url(url)

    def user_backend(self, url: str) -> UserBackend:
        """Open the user backend a URL names."""
        entry = self.registration("users", scheme_of(url))
        return entry.load(UserBackend).from_url(url)

    def blob_backend(self, url: str) -> BlobBackend:
        """Open the blob backend a URL names.

        A scheme no plugin registered but that fsspec knows (``gcs``, ``sftp``...) is served
        by the fsspec blob backend, which works with any fsspec filesystem in principle.
        """
        scheme = scheme_of(url)
        if scheme not in self._entries["blobs"] and _fsspec_knows(scheme):
            scheme = "file"
        entry = self.registration("blobs", scheme)
        return entry.load(BlobBackend).from_url(url)


def _fsspec_knows(protocol: str) -> bool:
    from fsspec.registry import known_implementations, registry

    return protocol in registry or protocol in known_implementations
