"""The hooks a Pinsphere plugin can implement.

A plugin is a module or object with functions marked ``@pinsphere.hookimpl``, made known
through the ``pinsphere`` entry-point group::

    [project.entry-points.pinsphere]
    my_backend = "my_package.pinsphere_plugin"

Built-in backends are registered through these same hooks
(:mod:`pinsphere.default_plugins`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from pinsphere.registry import BackendRegistry

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec", "pinsphere_register_backends"]

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
