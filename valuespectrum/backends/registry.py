"""Backends by name, imported only when used.

A backend is registered as a factory ``(BackendSpec) -> Backend`` or as a lazy
``"module:attr"`` string, so a missing optional dependency (torch for ``hf``, httpx for
``openai``) is reported, with the pip command that fixes it, only when that backend is
actually created. Other packages add backends through the entry-point group
``valuespectrum.backends`` (``name = "package.module:factory"``), read on the first
unknown name. Specs read naturally::

    create_backend("hf:Qwen/Qwen2-VL-2B-Instruct")
    create_backend("openai:my-model@http://127.0.0.1:8000/v1", cache="runs/cache.sqlite")
"""

from __future__ import annotations

import importlib
import importlib.metadata
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from valuespectrum.backends.base import Backend
from valuespectrum.backends.spec import BackendSpec
from valuespectrum.errors import BackendError, ConfigError, MissingDependencyError

ENTRY_POINT_GROUP = "valuespectrum.backends"

Factory = Callable[[BackendSpec], Backend]
Target = str | Factory


def _mock_from_spec(spec: BackendSpec) -> Backend:
    from valuespectrum.backends.mock import MockBackend

    return MockBackend(model_id=spec.model or "mock", **spec.options)


#: name -> its options model (a pydantic class, or "module:attr" of one or of a function
#: returning one). Backends without an entry take any options.
_BUILTIN_OPTIONS: dict[str, str] = {
    "hf": "valuespectrum.backends.options:HFOptions",
    "openai": "valuespectrum.backends.options:openai_options",
    "mock": "valuespectrum.backends.options:MockOptions",
    "steered": "valuespectrum.backends.steered:SteeredOptions",
    "sae": "valuespectrum.sae.spec:SAEOptions",
    "value-neurons": "valuespectrum.neurons.backend:NeuronOptions",
}

_BUILTINS: dict[str, tuple[Target, str | None]] = {
    # name: (target, pip extra that provides its dependencies)
    "hf": ("valuespectrum.backends.hf:HFBackend.from_spec", "hf"),
    "steered": ("valuespectrum.backends.steered:SteeredBackend.from_spec", "hf"),
    "sae": ("valuespectrum.sae.spec:from_spec", "hf"),
    "value-neurons": ("valuespectrum.neurons.backend:NeuronEditedBackend.from_spec", "hf"),
    "openai": ("valuespectrum.backends.openai_compat:OpenAIBackend.from_spec", "openai"),
    "mock": (_mock_from_spec, None),
    "replay": ("valuespectrum.backends.replay:ReplayBackend.from_spec", None),
}


class BackendRegistry:
    """Name -> backend factory. The module-level functions use one shared instance."""

    def __init__(self, *, builtins: bool = True, entry_points: bool = True) -> None:
        self._targets: dict[str, Target] = {}
        self._extras: dict[str, str | None] = {}
        self._origins: dict[str, str] = {}
        self._options: dict[str, str | type[BaseModel]] = {}
        self._plugins_loaded = not entry_points
        self._lock = threading.Lock()
        if builtins:
            for name, (target, extra) in _BUILTINS.items():
                self.register(name, target, extra=extra, options=_BUILTIN_OPTIONS.get(name))

    def register(
        self,
        name: str,
        target: Target,
        *,
        extra: str | None = None,
        replace: bool = True,
        options: str | type[BaseModel] | None = None,
    ) -> None:
        """Register ``target`` under ``name``; ``extra`` names the pip extra for its dependencies;
        ``options`` is the backend's options model (validated before the backend is built)."""
        if not name or ":" in name or name != name.strip():
            raise ValueError(f"backend name {name!r}: use a non-empty word without ':' (e.g. 'vllm')")
        if isinstance(target, str) and ":" not in target:
            raise ValueError(f"backend {name!r}: target {target!r} must be 'module:attr' or a callable")
        with self._lock:
            if not replace and name in self._targets:
                return
            self._targets[name] = target
            self._extras[name] = extra
            if options is not None:
                self._options[name] = options
            else:
                self._options.pop(name, None)
            self._origins.setdefault(name, "registered")

    def names(self) -> list[str]:
        self._load_plugins()
        return sorted(self._targets)

    def create(
        self,
        spec: str | BackendSpec,
        *,
        cache: str | Path | None = None,
        cache_refresh: bool = False,
        base_dir: str | Path | None = None,
        **options: Any,
    ) -> Backend:
        """Parse ``spec``, build its backend and optionally wrap it in a response cache
        (``cache_refresh``: ask the model anyway and overwrite the stored answers).

        ``base_dir``: the folder relative file paths in the options are read from (a manifest's folder).
        """
        parsed = self._parse(spec, options)
        if base_dir is not None:
            parsed = parsed.model_copy(update={"base_dir": str(base_dir)})
        factory = self._factory(parsed.kind, parsed)
        self._validate_options(parsed)
        try:
            backend = factory(parsed)
        except ModuleNotFoundError as exc:
            # A factory importing its heavy dependencies lazily (torch, transformers...).
            if exc.name is None or exc.name.split(".")[0] == "valuespectrum":
                raise
            raise self._missing(parsed.kind, exc.name) from exc
        if not isinstance(backend, Backend):
            raise BackendError(
                f"backend {parsed.kind!r} returned {type(backend).__name__}, which lacks the Backend "
                "methods (model_id, revision, supports_option_logprobs, supports_images, generate, close)"
            )
        if cache is not None:
            from valuespectrum.backends.cache import CachedBackend

            return CachedBackend(backend, cache, refresh=cache_refresh)
        return backend

    def check(self, spec: str | BackendSpec, options: dict[str, Any], *, source: str = "") -> None:
        """Validate a spec and its options without building the backend (nothing is loaded)."""
        parsed = self._parse(spec, options)
        self._factory(parsed.kind, parsed)
        self._validate_options(parsed, source)

    def options_model(self, kind: str) -> type[BaseModel] | None:
        """The options model a backend declared, or None when it takes any options."""
        target = self._options.get(kind)
        if target is None or isinstance(target, type):
            return target
        module_name, _, attr = target.partition(":")
        obj: Any = getattr(importlib.import_module(module_name), attr)
        model = obj if isinstance(obj, type) else obj()
        assert issubclass(model, BaseModel)
        return model

    # -- internals -----------------------------------------------------------------------

    def _validate_options(self, spec: BackendSpec, source: str = "") -> None:
        try:
            model = self.options_model(spec.kind)
        except ImportError as exc:
            raise self._missing(spec.kind, getattr(exc, "name", None) or str(exc)) from exc
        if model is None:
            return
        try:
            model.model_validate(spec.options)
        except ValidationError as exc:
            where = f"{source}: " if source else ""
            bad = "; ".join(
                f"{'.'.join(str(x) for x in e['loc'])} "
                + ("(unknown option)" if e["type"] == "extra_forbidden" else f"({e['msg']})")
                for e in exc.errors()[:5]
            )
            names = sorted(model.model_fields, key=lambda n: n != "base_url")  # the spec's own part first
            raise ConfigError(
                f"{where}model spec {spec.label()!r}: invalid options for the {spec.kind} backend: {bad}; "
                f"valid options: {', '.join(names)}"
            ) from exc

    @staticmethod
    def _parse(spec: str | BackendSpec, options: dict[str, Any]) -> BackendSpec:
        if isinstance(spec, BackendSpec):
            if not options:
                return spec
            return spec.model_copy(update={"options": {**spec.options, **options}})
        try:
            return BackendSpec.parse(spec, **options)
        except ValueError as exc:
            raise ConfigError(
                f"model spec {spec!r}: {exc}. Write it as 'hf:ORG/NAME', 'hf:./local/folder', "
                "'openai:MODEL@http://HOST:PORT/v1' or 'mock'"
            ) from exc

    def _factory(self, kind: str, spec: BackendSpec) -> Factory:
        if kind not in self._targets:
            self._load_plugins()
        if kind not in self._targets:
            raise BackendError(
                f"unknown backend {kind!r} in model spec {spec.label()!r}; registered backends: "
                f"{', '.join(self.names())}. Plugins register more through the entry-point group "
                f"'{ENTRY_POINT_GROUP}'"
            )
        target = self._targets[kind]
        if callable(target):
            return target
        return self._resolve(kind, target)

    def _resolve(self, kind: str, target: str) -> Factory:
        module_name, _, attr_path = target.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
        except ImportError as exc:
            missing = getattr(exc, "name", None)
            if missing is None:
                raise BackendError(f"backend {kind!r}: importing {module_name!r} failed: {exc}") from exc
            if missing == module_name or module_name.startswith(missing + "."):
                raise BackendError(
                    f"backend {kind!r} is registered as {target!r}, but module {module_name!r} does not exist "
                    f"({exc}); reinstall the package that provides it"
                ) from exc
            raise self._missing(kind, missing) from exc
        for part in attr_path.split("."):
            try:
                obj = getattr(obj, part)
            except AttributeError as exc:
                raise BackendError(
                    f"backend {kind!r} is registered as {target!r}, but {module_name!r} has no attribute "
                    f"{attr_path!r}"
                ) from exc
        if not callable(obj):
            raise BackendError(f"backend {kind!r}: {target!r} is not callable")
        factory: Factory = obj
        return factory

    def _missing(self, kind: str, package: str) -> Exception:
        package = package.split(".")[0]
        extra = self._extras.get(kind)
        if extra is not None:
            return MissingDependencyError(package, extra, f"the '{kind}' backend")
        origin = self._origins.get(kind, "registered")
        return BackendError(
            f"the '{kind}' backend ({origin}) needs the '{package}' package, which is not installed; "
            f"install it with `pip install {package}` or reinstall the plugin with its dependencies"
        )

    def _load_plugins(self) -> None:
        with self._lock:
            if self._plugins_loaded:
                return
            self._plugins_loaded = True
            found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        for ep in found:
            # Built-ins and explicit registrations win over plugins of the same name.
            if ep.name in self._targets:
                continue
            dist = getattr(ep, "dist", None)
            origin = f"plugin from {dist.name}" if dist is not None else f"entry point {ep.value}"
            with self._lock:
                self._origins[ep.name] = origin
            self.register(ep.name, ep.value, extra=None, replace=False)


_DEFAULT = BackendRegistry()


def default_registry() -> BackendRegistry:
    return _DEFAULT


def register_backend(
    name: str, target: Target, *, extra: str | None = None, options: str | type[BaseModel] | None = None
) -> None:
    """Register a backend under ``name``: a factory ``(BackendSpec) -> Backend`` or ``"module:attr"``;
    ``options``: its pydantic options model, validated before each backend is built."""
    _DEFAULT.register(name, target, extra=extra, options=options)


def create_backend(
    spec: str | BackendSpec,
    *,
    cache: str | Path | None = None,
    cache_refresh: bool = False,
    base_dir: str | Path | None = None,
    **options: Any,
) -> Backend:
    """Build a backend from a spec such as ``hf:Qwen/Qwen2-VL-2B-Instruct`` or
    ``openai:my-model@http://127.0.0.1:8000/v1``; ``cache`` wraps it in a response cache
    (``cache_refresh``: ask anyway and overwrite); ``base_dir`` is where relative file paths in
    the options are read from."""
    return _DEFAULT.create(spec, cache=cache, cache_refresh=cache_refresh, base_dir=base_dir, **options)


def list_backends() -> list[str]:
    """Names of all registered backends, plugins included."""
    return _DEFAULT.names()


__all__ = [
    "ENTRY_POINT_GROUP",
    "BackendRegistry",
    "create_backend",
    "default_registry",
    "list_backends",
    "register_backend",
]
