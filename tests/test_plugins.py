"""The plugin registry: built-ins as plugins, third-party plugins, blocking, install hints."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pluggy
import pytest

import pinsphere
from pinsphere import errors, hookspecs
from pinsphere.backends.memory.metadata import MemoryMetadataBackend
from pinsphere.layout_marker import LAYOUT_MARKER_KEY
from pinsphere.plugins import PluginHooks, get_hooks, reset_plugins
from pinsphere.registry import BackendRegistry, scheme_of


@pytest.fixture(autouse=True)
def fresh_plugins() -> Iterator[None]:
    reset_plugins()
    yield
    reset_plugins()


def test_builtins_are_registered_through_the_hook() -> None:
    hooks = get_hooks()
    assert "pinsphere.backends" in hooks.plugin_names()
    registry = hooks.registry
    assert {"memory", "sqlite", "postgresql", "postgresql+psycopg"} <= set(
        registry.schemes("metadata")
    )
    assert {"memory", "sqlite", "postgresql+psycopg"} <= set(registry.schemes("users"))
    assert {"file", "memory"} <= set(registry.schemes("blobs"))


def test_plugins_load_once() -> None:
    assert get_hooks() is get_hooks()
    assert get_hooks().registry is get_hooks().registry


def test_unknown_scheme_names_the_extra_to_install() -> None:
    # A registry without the built-ins: as if the plugin serving mongodb:// were not there.
    with pytest.raises(errors.UnknownBackend) as caught:
        BackendRegistry().metadata_backend("mongodb://localhost/pins")
    assert caught.value.scheme == "mongodb"
    assert "pip install 'pinsphere[mongo]'" in str(caught.value)
    with pytest.raises(errors.UnknownBackend) as caught:
        pinsphere.open(metadata="memory://", users="memory://", blobs="nosuchfs://bucket")
    assert "nosuchfs" in str(caught.value)


def test_not_a_url() -> None:
    with pytest.raises(errors.UnknownBackend):
        pinsphere.open(metadata="just-a-path", users="memory://", blobs="memory://")


def test_a_missing_driver_names_the_extra() -> None:
    registry = BackendRegistry()
    registry.add_metadata_backend("couch", "no_such_module_here:Backend", extra="couch-plugin")
    with pytest.raises(errors.UnknownBackend) as caught:
        registry.metadata_backend("couch://x")
    assert "pip install 'pinsphere[couch-plugin]'" in str(caught.value)
    assert isinstance(caught.value.__cause__, ImportError)


def test_a_path_to_the_wrong_kind_is_refused() -> None:
    registry = BackendRegistry()
    registry.add_user_backend("odd", "pinsphere.backends.memory.metadata:MemoryMetadataBackend")
    with pytest.raises(errors.UnknownBackend):
        registry.user_backend("odd://")


def test_disabled_plugins_are_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINSPHERE_DISABLED_PLUGINS", "pinsphere.backends, other")
    hooks = get_hooks()
    assert hooks.registry.schemes("metadata") == []
    with pytest.raises(errors.UnknownBackend):
        pinsphere.open(metadata="memory://", users="memory://", blobs="memory://")


class CustomMetadata(MemoryMetadataBackend):
    """A third-party backend, here just the memory one under another name."""

    @classmethod
    def from_url(cls, url: str) -> CustomMetadata:
        assert url.startswith("custom://")
        return super().from_url("memory://")


class ThirdPartyPlugin:
    @hookspecs.hookimpl
    def pinsphere_register_backends(self, registry: BackendRegistry) -> None:
        registry.add_metadata_backend("custom", CustomMetadata)


def test_a_third_party_plugin_adds_a_scheme() -> None:
    hooks = get_hooks()
    hooks.manager.register(ThirdPartyPlugin(), name="third-party")
    hooks_registry = PluginHooks(hooks.manager).registry
    backend = hooks_registry.metadata_backend("custom://")
    assert isinstance(backend, CustomMetadata)


def test_misspelled_hooks_are_caught() -> None:
    class Misspelled:
        @hookspecs.hookimpl
        def pinsphere_register_backend(self, registry: BackendRegistry) -> None:
            """One letter short of the real hook."""

    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    manager.register(Misspelled())
    with pytest.raises(pluggy.PluginValidationError):
        manager.check_pending()


def test_every_hook_is_documented() -> None:
    readme = (Path(__file__).parents[1] / "docs" / "writing-a-backend.md").read_text()
    specs = [name for name in dir(hookspecs) if name.startswith("pinsphere_")]
    assert specs
    for name in specs:
        assert name in readme, f"hook {name} is not documented"
        assert getattr(hookspecs, name).__doc__


def test_scheme_of() -> None:
    assert scheme_of("postgresql+psycopg://h/db") == "postgresql+psycopg"
    assert scheme_of("SQLite:///x.db") == "sqlite"
    assert scheme_of("no-scheme") == ""


def test_hookimpl_is_exported() -> None:
    assert pinsphere.hookimpl is hookspecs.hookimpl


class LabelPlugin:
    """Derives a small JSON file from every image."""

    @hookspecs.hookimpl
    def pinsphere_derivatives(
        self, pin_id: str, media: pinsphere.Media, original: io.BufferedIOBase
    ) -> list[hookspecs.Derivative]:
        head = original.read(4)
        data = f'{{"pin": "{pin_id}", "head": "{head.hex()}"}}'.encode()
        return [hookspecs.Derivative("labels.json", "application/json", data)]


class BrokenPlugin:
    @hookspecs.hookimpl
    def pinsphere_derivatives(
        self, pin_id: str, media: pinsphere.Media, original: io.BufferedIOBase
    ) -> list[hookspecs.Derivative]:
        raise RuntimeError("this plugin is broken")


def test_plugins_derive_files_served_under_the_pins_permissions() -> None:
    from pinsphere.testing.media import png_bytes
    from store_support import FAST_SETTINGS

    get_hooks().manager.register(BrokenPlugin(), name="broken")
    get_hooks().manager.register(LabelPlugin(), name="labels")
    with pinsphere.open(
        metadata="memory://", users="memory://", blobs="memory://", settings=FAST_SETTINGS
    ) as store:
        me = store.as_user(store.users.create("alice", password="alice-password"))
        pin = me.upload(png_bytes())  # the broken plugin does not fail the upload
        with me.open_derivative(pin.id, "labels.json") as labels:
            assert labels.read() == f'{{"pin": "{pin.id}", "head": "89504e47"}}'.encode()
        with pytest.raises(errors.NotFound):
            store.anonymous.open_derivative(pin.id, "labels.json")
        with pytest.raises(errors.NotFound):
            me.open_derivative(pin.id, "missing.json")
        with pytest.raises(errors.InvalidInput):
            me.open_derivative(pin.id, "../originals")
        me.delete(pin.id)
        assert list(store.blobs.keys()) == [LAYOUT_MARKER_KEY]


def test_derivative_names_are_checked() -> None:
    for bad in ("", "UPPER", "a/b", "../x", "x" * 65):
        with pytest.raises(ValueError, match="derivative name"):
            hookspecs.Derivative(bad, "text/plain", b"")
