"""Loading plugins, once and lazily, and calling their hooks through one typed wrapper.

Plugins come from the ``pinsphere`` entry-point group; the built-in backends are registered
first, as a plugin like any other. ``PINSPHERE_DISABLED_PLUGINS`` (comma-separated plugin
names) blocks plugins, built-ins included.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import IO

import pluggy

from pinsphere import hookspecs
from pinsphere.hookspecs import Derivative
from pinsphere.models import Media
from pinsphere.registry import BackendRegistry

__all__ = ["DEFAULT_PLUGINS", "PluginHooks", "get_hooks", "reset_plugins"]

DEFAULT_PLUGINS: tuple[tuple[str, str], ...] = (
    ("pinsphere.backends", "pinsphere.default_plugins.backends"),
)
"""Built-in plugins as (plugin name, module) pairs."""

_log = logging.getLogger(__name__)
_lock = threading.Lock()
_hooks: PluginHooks | None = None


def _disabled() -> set[str]:
    raw = os.environ.get("PINSPHERE_DISABLED_PLUGINS", "")
    return {name.strip() for name in raw.split(",") if name.strip()}


class PluginHooks:
    """A typed face over the plugin manager; the rest of the code calls hooks only here."""

    def __init__(self, manager: pluggy.PluginManager) -> None:
        self.manager = manager
        self._registry: BackendRegistry | None = None

    @property
    def registry(self) -> BackendRegistry:
        """The backend registry, filled by every plugin on first use."""
        if self._registry is None:
            registry = BackendRegistry()
            self.manager.hook.pinsphere_register_backends(registry=registry)
            self._registry = registry
        return self._registry

    def derivatives(self, pin_id: str, media: Media, original: IO[bytes]) -> list[Derivative]:
        """Every plugin's derivatives of a new pin; a failing plugin is logged and skipped."""
        found: list[Derivative] = []
        # Each plugin is called on its own (not through the hook caller) so that one
        # plugin's failure is isolated and the file is rewound for the next.
        for impl in self.manager.hook.pinsphere_derivatives.get_hookimpls():
            original.seek(0)
            try:
                made = impl.function(pin_id=pin_id, media=media, original=original)
            except Exception:  # a plugin's bug must not fail the upload
                _log.exception("plugin %s failed to derive files", impl.plugin_name)
                continue
            if isinstance(made, list):
                found.extend(item for item in made if isinstance(item, Derivative))
        return found

    def plugin_names(self) -> list[str]:
        """Names of the loaded plugins, sorted."""
        return sorted(
            name for name, plugin in self.manager.list_name_plugin() if plugin is not None
        )


def _load() -> PluginHooks:
    import importlib

    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    disabled = _disabled()
    for name in disabled:
        manager.set_blocked(name)
    for name, module_name in DEFAULT_PLUGINS:
        if name not in disabled:
            manager.register(importlib.import_module(module_name), name=name)
    manager.load_setuptools_entrypoints(hookspecs.PROJECT_NAME)
    manager.check_pending()
    return PluginHooks(manager)


def get_hooks() -> PluginHooks:
    """The loaded plugins; loads them on the first call only."""
    global _hooks
    if _hooks is None:
        with _lock:
            if _hooks is None:
                _hooks = _load()
    return _hooks


def reset_plugins() -> None:
    """Forget loaded plugins so the next call loads them again (for tests)."""
    global _hooks
    with _lock:
        _hooks = None
