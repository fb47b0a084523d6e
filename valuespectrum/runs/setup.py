"""Where a run gets its models, shared by probe runs (``vspec run``), browsing runs
(``vspec browse``) and the library: paths relative to the manifest, the backend factory with
the manifest's cache setting, and who closes which backend (:class:`ModelSource`). The run
folder itself is :mod:`valuespectrum.runs.folder`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from valuespectrum.backends.base import Backend
from valuespectrum.runs.spec import ModelSpec

#: ``(spec, options, label) -> Backend``: how a run gets each of its models.
BackendFactory = Callable[[str, dict[str, object], str | None], Backend]


def data_dir() -> Path:
    """Where shared state (response cache, indexes) lives: $VSPEC_DATA or ./vspec-data."""
    return Path(os.environ.get("VSPEC_DATA", "vspec-data"))


def under(base: Path, p: str | Path) -> Path:
    """A manifest path: absolute as given, else relative to the manifest's folder ``base``."""
    path = Path(p)
    return path if path.is_absolute() else base / path


def backend_factory(cache: bool | str, base: Path) -> BackendFactory:
    """Backends from specs, with a manifest's ``cache`` setting: True = the shared cache under
    the data folder, a path = that SQLite file (relative to ``base``), False = none,
    "refresh" = the shared cache, asking the model again and overwriting what it holds."""
    from valuespectrum.backends.registry import create_backend

    path: str | None
    refresh = cache == "refresh"
    if cache is True or refresh:
        path = str(data_dir() / "response-cache.sqlite")
    elif cache is False:
        path = None
    else:
        path = str(under(base, cache))

    def make(spec: str, options: dict[str, object], _label: str | None) -> Backend:
        return create_backend(spec, cache=path, cache_refresh=refresh, base_dir=base, **options)

    return make


@dataclass(frozen=True)
class ModelSource:
    """Where a run gets its backends, and which of them it must close.

    Ownership: the caller owns what it passes in. A backend in ``prebuilt`` (keyed by the
    model's label, or its spec when it has none) is used as given and never closed; a
    caller-supplied ``factory`` makes backends the caller closes (``owned=False``); only the
    default factory, which the runner builds from the manifest, makes backends the runner
    closes after use (``owned=True``).
    """

    factory: BackendFactory
    owned: bool
    prebuilt: Mapping[str, Backend] = field(default_factory=dict)

    @classmethod
    def for_run(
        cls,
        cache: bool | str,
        base: Path,
        *,
        factory: BackendFactory | None = None,
        prebuilt: Mapping[str, Backend] | None = None,
        models: Iterable[ModelSpec] = (),
    ) -> ModelSource:
        """The source of a run's backends, having checked ``models`` (see :meth:`check`)."""
        if factory is None:
            source = cls(backend_factory(cache, base), owned=True, prebuilt=dict(prebuilt or {}))
        else:
            source = cls(factory, owned=False, prebuilt=dict(prebuilt or {}))
        for m in models:
            source.check(m.spec, m.options, m.label)
        return source

    def check(self, spec: str, options: Mapping[str, object], label: str | None) -> None:
        """Validate a model's spec and options without loading it (before anything is written)."""
        if (label or spec) in self.prebuilt or not self.owned:
            return
        from valuespectrum.backends.registry import default_registry

        default_registry().check(spec, dict(options), source=f"model {label or spec!r}")

    @contextmanager
    def open(self, spec: str, options: Mapping[str, object], label: str | None) -> Iterator[Backend]:
        given = self.prebuilt.get(label or spec)
        if given is not None:
            yield given
            return
        backend = self.factory(spec, dict(options), label)
        try:
            yield backend
        finally:
            if self.owned:
                backend.close()
