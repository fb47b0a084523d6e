"""Manifests for the ``steer`` commands (YAML, read with yaml.safe_load, validated by pydantic)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator


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
    detector_layer: int | None = None
    """Also train a whole-input value detector per value at this layer (value texts versus other
    values' texts, pooled like ``position``); saved as <value>-detector .safetensors + .json."""


class GateSpec(BaseModel):
    """Gated mode's whole-input detector: one decision per request, from its whole prompt."""

    model_config = ConfigDict(extra="forbid")

    pooling: Literal["mean", "last"] | None = None
    """Read the probe on the mean activation of the prompt's tokens, or on its last token
    (default: the pooling the probe was trained with, recorded in its metadata)."""
    threshold: float = Field(default=0.5, gt=0.0, lt=1.0)
    """Steer a request when the detector's probability exceeds this."""
    layer: int | None = None
    """Layer whose probe reads the prompt (default: the probe's first layer)."""
    detectors: dict[str, str] = Field(default_factory=dict)
    """Value name -> a saved probe vector to use as that value's detector (e.g. <value>-detector.json
    from ``steer extract`` with ``detector_layer``); values not listed use the steering vector's own probe."""


class EvalManifest(BaseModel):
    """Evaluate saved vectors on a probe bank with the standard controls."""

    model_config = ConfigDict(extra="forbid")

    model: str
    vectors: list[str] = Field(min_length=1)
    """Saved vectors (.safetensors or .json paths)."""
    probes: str
    """A built-in bank (portrait, agreement, dilemma) or a probe bank as JSON (ProbeBank)."""
    multipliers: list[float] = Field(min_length=1)
    """Multipliers (mode add) or p0 targets (mode gated)."""
    mode: Literal["add", "gated"] = "add"
    gate: GateSpec | None = None
    """Gated mode only: decide once per request with a whole-input detector (omit: steer every request)."""
    n_random: int = Field(default=3, ge=2)
    seed: int = 0
    fluency: bool = True
    capability: bool = True
    out: str
    """Run folder; results go to its steering/ subfolder (report.json, summary.txt, effects.png,
    interdependence.json), so ``vspec report OUT`` shows them."""
    device: str | None = None
    dtype: str | None = None

    @model_validator(mode="after")
    def _gate_needs_gated_mode(self) -> EvalManifest:
        if self.gate is not None and self.mode != "gated":
            raise ValueError("'gate' is only used with mode: gated (set mode: gated or remove gate)")
        if self.mode == "gated" and not all(0.0 < m < 1.0 for m in self.multipliers):
            raise ValueError(
                "in mode: gated the multipliers are p0 targets and must lie strictly between 0 and 1"
            )
        return self


M = TypeVar("M", bound=BaseModel)


def load_manifest(path: str | Path, cls: type[M]) -> M:
    from valuespectrum.manifest import load_config

    return load_config(cls, path)
