"""Manifests for the ``steer`` commands (YAML, read with yaml.safe_load, validated by pydantic).

The model is a model entry like those of run manifests (``spec``, ``options``, ``label``; a bare
string is a spec, and a bare path means ``hf:PATH``). Every other path (vectors, pairs,
probe files, detectors, ``out``, a cache file) is relative to the manifest's folder.

An evaluation is a run, so its manifest is a run spec (:class:`~valuespectrum.runs.spec.RunSpecBase`):
``name``/``output_dir`` (or ``out``), ``seed``, ``generation``, ``cache``, ``max_failure_rate`` and
``max_unparsed_rate`` mean what they mean in run manifests. Its personas are chosen by the
evaluation itself (none, the neutral persona, each steered value's persona).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from valuespectrum.manifest import ProbeSelection
from valuespectrum.runs.setup import under
from valuespectrum.runs.spec import ModelSpec, Rate, RunSpecBase
from valuespectrum.steering.apply import P0_MODES, Mode, Positions


def _model_entry(raw: Any) -> Any:
    if isinstance(raw, str):
        return {"spec": raw if ":" in raw else f"hf:{raw}"}
    return raw


class ExtractManifest(BaseModel):
    """Extract CAA and probe vectors from contrastive pairs."""

    model_config = ConfigDict(extra="forbid")

    model: ModelSpec
    """The model to read activations from: ``{spec: hf:PATH, options: {...}}`` or a spec string."""
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
    detector_layer: int | None = None
    """Also train a whole-input value detector per value at this layer (value texts versus other
    values' texts, pooled like ``position``); saved as <value>-detector .safetensors + .json."""

    @field_validator("model", mode="before")
    @classmethod
    def _entry(cls, raw: Any) -> Any:
        return _model_entry(raw)


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


class EvalManifest(RunSpecBase):
    """Evaluate saved vectors on a probe bank with the standard controls (a run spec)."""

    model: ModelSpec
    """The base model, loaded once and lent to every condition: ``{spec, options, label}`` or a spec."""
    vectors: list[str] = Field(min_length=1)
    """Saved vectors (.safetensors or .json paths)."""
    probes: str | ProbeSelection
    """A built-in bank (portrait, agreement, dilemma), a probe bank as JSON (ProbeBank), or a
    run manifest's probe selection (``{banks: [...], values: [...], limit_per_value: N}``)."""
    multipliers: list[float] = Field(min_length=1)
    """Multipliers (mode add) or p0 targets (modes gated, conva_raise, conva_lower)."""
    mode: Mode = "add"
    """add: vector x multiplier; gated: each position's minimum-norm shift to p0; conva_raise /
    conva_lower: ConVA's published shift (one constant vector per layer from the last prompt token,
    toward p0 or away from the value)."""
    gate: GateSpec | None = None
    """Modes gated, conva_raise, conva_lower only: decide once per request with a whole-input
    detector (omit: steer every request)."""
    n_random: int = Field(default=3, ge=2)
    layers: list[int] | None = None
    """Decoder layers to steer (default: every layer each vector has)."""
    positions: Positions = "all"
    """Token positions steered: all, prompt or generated (decoding steps only)."""
    fluency: bool = True
    capability: bool = True
    out: str | None = None
    """Run folder (default: ``output_dir/name``, as in run manifests): an ordinary probe run
    (responses.jsonl, summary.json...) whose steering/ subfolder holds report.json, summary.txt,
    effects.png and interdependence.json."""
    batch_size: int = Field(default=8, ge=1, le=4096)
    max_unparsed_rate: float = Rate(default=1.0)
    """As in run manifests, but off by default: steering reads option likelihoods, not answer text."""

    @field_validator("model", mode="before")
    @classmethod
    def _entry(cls, raw: Any) -> Any:
        return _model_entry(raw)

    @model_validator(mode="after")
    def _gate_needs_gated_mode(self) -> EvalManifest:
        if self.gate is not None and self.mode not in P0_MODES:
            raise ValueError(
                "'gate' is only used with mode: gated, conva_raise or conva_lower (set one or remove gate)"
            )
        if self.mode in P0_MODES and not all(0.0 < m < 1.0 for m in self.multipliers):
            raise ValueError(
                f"in mode: {self.mode} the multipliers are p0 targets and must lie strictly between 0 and 1"
            )
        if self.personas != ["none"] or self.personas_file is not None:
            raise ValueError(
                "'personas'/'personas_file' are chosen by the evaluation (none, neutral and each steered "
                "value's persona, the texts `vspec run` uses); remove them"
            )
        return self

    def run_dir(self, base: Path) -> Path:
        """The run folder: ``out``, else ``output_dir/name``, relative to the manifest's folder ``base``."""
        return under(base, self.out) if self.out is not None else under(base, self.output_dir) / self.name

    def cache_setting(self, base: Path) -> bool | str:
        """``cache`` with a file path resolved against the manifest's folder."""
        if isinstance(self.cache, bool) or self.cache == "refresh":
            return self.cache
        return str(under(base, self.cache))


M = TypeVar("M", bound=BaseModel)


def load_manifest(path: str | Path, cls: type[M]) -> M:
    from valuespectrum.manifest import load_config

    return load_config(cls, path)
