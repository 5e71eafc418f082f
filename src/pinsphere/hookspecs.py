"""The hooks a Pinsphere plugin can implement.

A plugin is a module or object with functions marked ``@pinsphere.hookimpl``, made known
through the ``pinsphere`` entry-point group::

    [project.entry-points.pinsphere]
    my_backend = "my_package.pinsphere_plugin"

Built-in backends are registered through these same hooks
(:mod:`pinsphere.default_plugins`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from pinsphere.models import Media
    from pinsphere.registry import BackendRegistry

__all__ = [
    "PROJECT_NAME",
    "Derivative",
    "hookimpl",
    "hookspec",
    "pinsphere_derivatives",
    "pinsphere_register_backends",
]

PROJECT_NAME = "pinsphere"
"""The pluggy project name and the entry-point group plugins are found in."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def pinsphere_register_backends(registry: BackendRegistry) -> None:
    """Add backends to the registry.

    Called once, the first time a backend is looked up. Register each backend under the URL
    scheme that selects it, either as a class or as a ``"module:Class"`` path so that its
    module (and its driver) is imported only when a URL asks for it::

        @pinsphere.hookimpl
        def pinsphere_register_backends(registry):
            registry.add_metadata_backend("couch", "my_package.couch:CouchMetadata",
                                          extra="my-package[couch]")

    Args:
        registry: The registry to add to.
    """


@dataclass(frozen=True)
class Derivative:
    """An extra file a plugin derives from a new pin's original.

    Attributes:
        name: Its name among the pin's derivatives: 1-64 of ``a-z 0-9 . _ -``.
        mime_type: Its type, served with it.
        data: Its bytes (derivatives are small: a watermarked preview, a JSON of labels).
    """

    name: str
    mime_type: str
    data: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not DERIVATIVE_NAME.fullmatch(self.name):
            raise ValueError(f"not a derivative name: {self.name!r}")
        if not isinstance(self.data, bytes):
            raise TypeError("a derivative's data is bytes")


DERIVATIVE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
"""What a derivative may be called (it becomes part of a blob key)."""


@hookspec
def pinsphere_derivatives(pin_id: str, media: Media, original: IO[bytes]) -> list[Derivative]:
    """Derive extra files from a new pin's original (a watermark, a classifier's labels).

    Called once per upload for each plugin, after the built-in thumbnails, before the pin is
    recorded. ``original`` is the stored file, seekable and rewound for each plugin. The
    files returned are stored beside the pin's thumbnails, removed with the pin, and read
    with ``scope.open_derivative(pin_id, name)`` under the same permission checks as the
    original. A plugin that raises is logged and skipped: the upload still succeeds::

        @pinsphere.hookimpl
        def pinsphere_derivatives(pin_id, media, original):
            if media.kind != "image":
                return []
            return [Derivative("labels.json", "application/json", classify(original))]

    Args:
        pin_id: The id the pin will have.
        media: What the upload learnt about the file (type, size, dimensions...).
        original: The stored original.

    Returns:
        The derivatives (an empty list for none).
    """
    raise NotImplementedError  # a specification: plugins implement it
