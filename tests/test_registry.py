"""Backend registry: lazy imports, actionable errors, entry-point plugins, model specs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from valuespectrum.backends.base import Backend
from valuespectrum.backends.cache import CachedBackend
from valuespectrum.backends.mock import MockBackend
from valuespectrum.backends.registry import BackendRegistry, create_backend, list_backends
from valuespectrum.backends.spec import BackendSpec
from valuespectrum.errors import BackendError, ConfigError, MissingDependencyError
from valuespectrum.types import Message, ModelRequest


def test_builtins_are_listed() -> None:
    assert {"hf", "openai", "mock"} <= set(list_backends())


def test_importing_the_registry_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, valuespectrum.backends.registry as r\n"
        "print(sorted(m for m in ('httpx', 'torch', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_mock_spec_and_options() -> None:
    backend = create_backend("mock:scripted", default="Yes")
    assert isinstance(backend, MockBackend) and backend.model_id == "scripted"
    (resp,) = backend.generate([ModelRequest(request_id="a", messages=[Message.text("user", "?")])])
    assert resp.text == "Yes"
    assert create_backend("mock").model_id == "mock"


def test_openai_spec_reads_naturally() -> None:
    from valuespectrum.backends.openai_compat import OpenAIBackend

    backend = create_backend("openai:my-model@http://127.0.0.1:8000/v1", max_concurrency=2)
    assert isinstance(backend, OpenAIBackend)
    assert backend.model_id == "openai:my-model@http://127.0.0.1:8000/v1"
    backend.close()
    spec = BackendSpec(kind="openai", model="m", options={"base_url": "http://10.0.0.2:9000/v1"})
    assert create_backend(spec).model_id == "openai:m@http://10.0.0.2:9000/v1"


def test_bad_specs_name_the_problem() -> None:
    with pytest.raises(
        BackendError, match=r"unknown backend 'vlmx' in model spec 'vlmx:foo'.*hf, mock, openai"
    ):
        create_backend("vlmx:foo")
    with pytest.raises(ConfigError, match=r"'openai:m@ftp://x'.*http\(s\) URL"):
        create_backend("openai:m@ftp://x")
    with pytest.raises(ConfigError, match="needs a model name"):
        create_backend("openai:@http://127.0.0.1:8000/v1")
    with pytest.raises(ConfigError, match=r"max_retry .*valid options: base_url, api_key_env"):
        create_backend("openai:m@http://127.0.0.1:8000/v1", max_retry=3)
    with pytest.raises(ConfigError, match="empty model spec"):
        create_backend("  ")


def test_missing_optional_dependency_is_reported_only_when_used(monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulate an install without httpx: the registry still imports and lists 'openai'...
    monkeypatch.setitem(sys.modules, "httpx", None)
    monkeypatch.delitem(sys.modules, "valuespectrum.backends.openai_compat", raising=False)
    registry = BackendRegistry(entry_points=False)
    assert "openai" in registry.names()
    assert isinstance(registry.create("mock"), MockBackend)
    # ...and only creating it names the package and the extra to install.
    with pytest.raises(
        MissingDependencyError, match=r"'openai' backend needs the 'httpx' package.*valuespectrum\[openai\]"
    ) as info:
        registry.create("openai:m@http://127.0.0.1:8000/v1")
    assert (info.value.package, info.value.extra) == ("httpx", "openai")


def test_factory_importing_lazily_maps_to_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mod = tmp_path / "vspec_lazy_backend.py"
    mod.write_text(
        textwrap.dedent(
            """
            def from_spec(spec):
                import vspec_not_installed_pkg  # heavy dependency imported on use
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = BackendRegistry(builtins=False, entry_points=False)
    registry.register("heavy", "vspec_lazy_backend:from_spec", extra="hf")
    with pytest.raises(MissingDependencyError, match=r"'vspec_not_installed_pkg'.*valuespectrum\[hf\]"):
        registry.create("heavy:x")
    registry.register("ghost", "vspec_no_such_module:make")
    with pytest.raises(BackendError, match=r"module 'vspec_no_such_module' does not exist"):
        registry.create("ghost:x")
    registry.register("noattr", "vspec_lazy_backend:Missing.from_spec")
    with pytest.raises(BackendError, match=r"has no attribute 'Missing.from_spec'"):
        registry.create("noattr:x")


def _write_plugin(root: Path) -> None:
    (root / "vspec_fakeplugin.py").write_text(
        textwrap.dedent(
            """
            from valuespectrum.backends.mock import MockBackend

            def make(spec):
                return MockBackend(default="plugin says " + spec.model, model_id="fake:" + spec.model)
            """
        )
    )
    (root / "vspec_brokenplugin.py").write_text("import vspec_absent_dependency\n")
    info = root / "vspec_fakeplugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: vspec-fakeplugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[valuespectrum.backends]\nfake = vspec_fakeplugin:make\nbroken = vspec_brokenplugin:make\n"
        "mock = vspec_fakeplugin:make\n"
    )


def test_entry_point_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_plugin(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = BackendRegistry()
    backend = registry.create("fake:hello")
    assert isinstance(backend, Backend) and backend.model_id == "fake:hello"
    (resp,) = backend.generate([ModelRequest(request_id="a", messages=[Message.text("user", "?")])])
    assert resp.text == "plugin says hello"
    assert {"fake", "broken"} <= set(registry.names())
    # A plugin cannot take over a built-in name.
    assert registry.create("mock").model_id == "mock"
    with pytest.raises(
        BackendError,
        match=r"'broken' backend \(plugin from vspec-fakeplugin\) needs the 'vspec_absent_dependency'",
    ):
        registry.create("broken:x")


def test_register_callable_and_bad_registrations(tmp_path: Path) -> None:
    registry = BackendRegistry(builtins=False, entry_points=False)
    registry.register("echo", lambda spec: MockBackend(default=spec.model, model_id="echo"))
    assert registry.names() == ["echo"]
    (resp,) = registry.create("echo:hi").generate(
        [ModelRequest(request_id="a", messages=[Message.text("user", "?")])]
    )
    assert resp.text == "hi"
    registry.register("notabackend", lambda spec: object())  # type: ignore[arg-type,return-value]
    with pytest.raises(BackendError, match="lacks the Backend methods"):
        registry.create("notabackend")
    with pytest.raises(ValueError, match="module:attr"):
        registry.register("x", "no_colon_here")
    with pytest.raises(ValueError, match="without ':'"):
        registry.register("a:b", "m:f")


def test_cache_option_wraps_the_backend(tmp_path: Path) -> None:
    backend = create_backend("mock:c", cache=tmp_path / "cache.sqlite")
    assert isinstance(backend, CachedBackend) and backend.model_id == "c"
    r = ModelRequest(request_id="a", messages=[Message.text("user", "?")])
    assert [x.cached for x in backend.generate([r]) + backend.generate([r])] == [False, True]
    backend.close()
