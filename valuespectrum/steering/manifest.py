"""Manifests for the ``steer`` commands (YAML, read with yaml.safe_load, validated by pydantic)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from valuespectrum.errors import ConfigError


class ExtractManifest(BaseModel):
    """Extract CAA and probe vectors from contrastive pairs."""

    model_config = ConfigDict(extra="forbid")

    model: str
    """Local folder or hub id of a transformers model (loaded like the hf backend)."""
    layers: list[int] = Field(min_length=1)
    """Decoder layers to read and steer (negative = from the end)."""
    values: list[str] | Literal["all"] = "all"
    pairs: str = "builtin"
    """'builtin' or a .jsonl/.csv file of pairs (columns scenario, positive, negative, value)."""
    out: str
    """Folder for <value>-caa/-probe .safetensors + .json and accuracy.json."""
    layer_template: str | None = None
    position: Literal["last", "mean"] = "last"
    test_fraction: float = Field(default=0.25, gt=0.0, lt=1.0)
    batch_size: int = Field(default=8, ge=1)
    seed: int = 0
    device: str | None = None
    dtype: str | None = None


class EvalManifest(BaseModel):
    """Evaluate saved vectors on a probe bank with the standard controls."""

    model_config = ConfigDict(extra="forbid")

    model: str
    vectors: list[str] = Field(min_length=1)
    """Saved vectors (.safetensors or .json paths)."""
    probes: str
    """A probe bank as JSON (ProbeBank)."""
    multipliers: list[float] = Field(min_length=1)
    """Multipliers (mode add) or p0 targets (mode gated)."""
    mode: Literal["add", "gated"] = "add"
    n_random: int = Field(default=3, ge=2)
    seed: int = 0
    fluency: bool = True
    capability: bool = True
    out: str
    """Folder for report.json, summary.txt and effects.png."""
    device: str | None = None
    dtype: str | None = None


M = TypeVar("M", bound=BaseModel)


def load_manifest(path: str | Path, cls: type[M]) -> M:
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: manifest not found")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML ({exc})") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: expected a mapping of fields at the top level")
    try:
        return cls.model_validate(raw)
    except ValidationError as exc:
        msgs = "; ".join(f"field '{'.'.join(str(x) for x in e['loc'])}': {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{p}: {msgs}") from exc
