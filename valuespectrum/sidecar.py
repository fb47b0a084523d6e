"""Tensor files with a JSON sidecar: ``<stem>.safetensors`` holds the arrays, ``<stem>.json``
the metadata that says what they are (steering vectors, neuron sets).

Either file, or the common stem, names the pair. Reading checks both files and the sidecar's
required fields, with one-line errors naming the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from valuespectrum.errors import ConfigError


def stem(path: str | Path) -> Path:
    """The common stem of a pair given either file or the stem itself."""
    p = Path(path)
    return p.with_suffix("") if p.suffix in (".safetensors", ".json") else p


def write_pair(
    path: str | Path, save_file: Callable[[Any, str], None], tensors: dict[str, Any], meta: dict[str, Any]
) -> Path:
    """Write ``tensors`` with ``save_file`` (safetensors' numpy or torch one) and the sidecar
    ``meta`` (sorted, indented) at the stem of ``path``; returns the tensor file's path."""
    base = stem(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(base.with_suffix(".safetensors")))
    base.with_suffix(".json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return base.with_suffix(".safetensors")


def read_meta(path: str | Path, what: str, required: Iterable[str]) -> tuple[Path, Path, dict[str, Any]]:
    """``(tensor file, sidecar, sidecar fields)`` of the pair ``path`` names; ``what`` (e.g.
    "a steering vector") names the kind of file in the errors."""
    base = stem(path)
    st, js = base.with_suffix(".safetensors"), base.with_suffix(".json")
    for p in (st, js):
        if not p.is_file():
            raise ConfigError(f"{p}: missing; {what} is a .safetensors file plus a .json sidecar")
    try:
        meta = json.loads(js.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{js}: not valid JSON ({exc})") from exc
    for key in required:
        if key not in meta:
            raise ConfigError(f"{js}: field {key!r} is missing from the sidecar")
    return st, js, meta
