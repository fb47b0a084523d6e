"""Setting up a run folder, shared by probe runs (``vspec run``) and browsing runs
(``vspec browse``): paths relative to the manifest, the backend factory with the manifest's
cache setting, the refusal to mix two manifests in one folder, and the files that record
what the run is (the resolved manifest, its personas, the header with the manifest digest).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from valuespectrum.backends.base import Backend
from valuespectrum.errors import ConfigError
from valuespectrum.personas import Persona
from valuespectrum.runs.header import build_header
from valuespectrum.runs.jsonl import write_json_atomic
from valuespectrum.types import stable_hash

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
    the data folder, a path = that SQLite file (relative to ``base``), False = none."""
    from valuespectrum.backends.registry import create_backend

    path: str | None
    if cache is True:
        path = str(data_dir() / "response-cache.sqlite")
    elif cache is False:
        path = None
    else:
        path = str(under(base, cache))

    def make(spec: str, options: dict[str, object], _label: str | None) -> Backend:
        return create_backend(spec, cache=path, base_dir=base, **options)

    return make


def check_manifest(manifest: BaseModel, root: Path, header: Path, *, fresh: bool) -> str:
    """The manifest's digest; raises when ``root`` already holds a run of another manifest."""
    digest = stable_hash(manifest.model_dump(mode="json"))
    if header.is_file() and not fresh:
        old = json.loads(header.read_text(encoding="utf-8")).get("manifest_digest")
        if old != digest:
            raise ConfigError(
                f"{root}: holds a run of a different manifest; use another 'name' or "
                "'output_dir', or pass --fresh to start this folder over"
            )
    return digest


def write_run_files(
    manifest: BaseModel,
    personas: Sequence[Persona | None],
    *,
    manifest_path: Path,
    personas_path: Path,
    header_path: Path,
    digest: str,
    seed: int,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Record the resolved manifest, the personas and the header (written last: a folder
    with a header is a started run)."""
    manifest_path.write_text(
        yaml.safe_dump(manifest.model_dump(mode="json"), sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    write_json_atomic(personas_path, [p.model_dump(mode="json") for p in personas if p is not None])
    write_json_atomic(
        header_path, build_header(seed=seed, manifest_digest=digest, extra=dict(extra) if extra else None)
    )
