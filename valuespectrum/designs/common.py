"""What both design manifests share: the model entry, path resolution, the output folder and the outcome."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from valuespectrum.backends.base import Backend
from valuespectrum.errors import ConfigError
from valuespectrum.manifest import ModelEntry


def make_backend(entry: ModelEntry, override: str | None = None, *, base: Path | None = None) -> Backend:
    """The backend a manifest names; ``override`` (a model spec) replaces its spec and options.
    ``base``: the manifest's folder, which relative files in the options (a steering vector) are
    read from, as in run manifests."""
    from valuespectrum.backends.registry import create_backend

    if override:
        return create_backend(override, base_dir=base)
    return create_backend(entry.spec, base_dir=base, **entry.options)


def resolve(base: Path, path: str | None) -> Path | None:
    if path is None:
        return None
    p = Path(path).expanduser()
    return p if p.is_absolute() else base / p


def out_folder(base: Path, output_dir: str, name: str, out: Path | None, fresh: bool) -> Path:
    folder = out if out is not None else (resolve(base, output_dir) or base) / name
    if fresh and folder.exists():
        if not (folder / "header.json").exists():
            raise ConfigError(
                f"{folder}: --fresh would delete a folder that holds no header.json; pick another --out"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def check_header(folder: Path, header: dict[str, Any]) -> None:
    """Refuse to resume a folder written under other settings (their records would mix)."""
    import json

    from valuespectrum.runs.jsonl import write_json_atomic

    path = folder / "header.json"
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        if old != json.loads(json.dumps(header, default=str)):
            raise ConfigError(
                f"{folder}: holds a run with other settings (header.json differs); use --fresh or another --out"
            )
        return
    write_json_atomic(path, header)


@dataclass
class DesignOutcome:
    """A finished design run: its folder and summary, and how many model answers could not be read."""

    folder: Path
    summary: dict[str, Any]
    n_answers: int
    n_unread: int
    """Answers unparsed or failed."""
    max_unparsed_rate: float
    """The manifest's threshold: past it the command exits non-zero."""

    @property
    def unread_rate(self) -> float:
        return self.n_unread / self.n_answers if self.n_answers else 0.0

    @property
    def too_many_unread(self) -> bool:
        return self.unread_rate > self.max_unparsed_rate
