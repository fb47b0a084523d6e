"""Run manifests: YAML files (read with the safe loader) validated by pydantic.

Errors name the file and the field path (``models.0.spec``) and say what was expected, so a
user can fix the file without reading code. The CLI and library build the same object. The
fields every run spec shares live in :mod:`valuespectrum.runs.spec`; reading and validating
files in :mod:`valuespectrum.config` (re-exported here).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from valuespectrum.config import (
    check_unique,
    format_validation_error,
    load_config,
    load_yaml,
    validate_mapping,
)
from valuespectrum.probes.wordings import Wording, coerce_wording
from valuespectrum.runs.spec import ModelSpec, RunSpecBase
from valuespectrum.runs.spec import Strict as _Strict
from valuespectrum.scoring.items import WeightSign
from valuespectrum.types import GenerateConfig, Modality, PromptStyle
from valuespectrum.value_systems import BUILTIN, SCHWARTZ10, Dim, key_of
from valuespectrum.values import parse_value


class ModelEntry(ModelSpec):
    modalities: list[Modality] | None = None
    """Override the run's modalities for this model (e.g. [text] for a text-only LLM)."""
    personas: list[str] | None = None
    """Ask this model under these of the run's personas only (default: all of them)."""

    @field_validator("modalities")
    @classmethod
    def _modalities(cls, v: list[Modality] | None) -> list[Modality] | None:
        return None if v is None else _unique(v, "modalities")


def _unique(items: list[Any], what: str) -> list[Any]:
    if len(set(items)) != len(items):
        raise ValueError(f"{what} must not repeat (each would be asked twice): {items}")
    return items


class ItemFile(_Strict):
    path: str
    """CSV/TSV, JSONL, JSON or Parquet file of items (relative to the manifest)."""
    mapping: dict[str, Any] = Field(default_factory=dict)
    """Column mapping (see valuespectrum.probes.importers.ColumnMapping)."""
    name: str | None = None


class IndexProbes(_Strict):
    """Build value-balanced VQA items from a video index (see ``vspec index``)."""

    data_dir: str = "vspec-data"
    collection: str = "vspec"
    per_value: int = Field(default=5, ge=1)
    frames: Literal["all", "middle"] = "all"
    answer_format: Literal["yes_no", "likert"] = "yes_no"


DEFAULT_DESCRIBE_PROMPT = (
    "Describe what this video shows in two or three sentences: the setting, the people or things "
    "in it and what happens. Describe only; do not judge it."
)


class Describer(_Strict):
    """A model that writes each media item's description for the text modality."""

    spec: str
    """Backend spec of a model that can see the frames, e.g. ``hf:Qwen/Qwen2-VL-2B-Instruct``."""
    options: dict[str, Any] = Field(default_factory=dict)
    prompt: str = DEFAULT_DESCRIBE_PROMPT
    max_new_tokens: int = Field(default=96, ge=8, le=1024)


class ProbeSelection(_Strict):
    banks: list[str] = Field(default_factory=lambda: ["portrait"])
    """Built-in banks to include: portrait, agreement, dilemma."""

    @field_validator("banks")
    @classmethod
    def _banks(cls, v: list[str]) -> list[str]:
        return _unique(v, "probes.banks")

    files: list[ItemFile] = Field(default_factory=list)
    probe_set: str | None = None
    """A saved probe-set JSONL (e.g. built from a video index)."""
    from_index: IndexProbes | None = None
    """Build VQA items from an index; the items are stored with the run."""
    describe: Describer | None = None
    """Text modality from a description this model writes from the frames (greedy, cached)
    instead of the item's caption: the paper's image-description ablation."""
    values: list[Dim] | None = None
    """Keep only probes informing these values (default: all); names of another value system
    (``care``) are checked against the probes' system when the run starts."""
    limit_per_value: int | None = Field(default=None, ge=1)

    @field_validator("values", mode="before")
    @classmethod
    def _values(cls, raw: object, info: ValidationInfo) -> object:
        if raw is None:
            return None
        if not isinstance(raw, list):
            raise ValueError("values must be a list of value names")
        # named in the value system the sources declare (Schwartz's ten for the banks)
        files = info.data.get("files") or []
        systems = {str(f.mapping.get("value_system", SCHWARTZ10)).casefold() for f in files}
        if info.data.get("banks") or not files:
            systems.add(SCHWARTZ10)
        if len(systems) == 1 and (system := systems.pop()) in BUILTIN:
            return [key_of(system, v) for v in raw]
        out: list[Dim] = []
        for v in raw:
            try:
                out.append(parse_value(str(v)))
            except ValueError:
                if not str(v).strip():
                    raise ValueError("values: an empty value name") from None
                out.append(str(v).strip())
        return out


class Controls(_Strict):
    reverse_labels: bool = True
    """Also ask every item with the answer labels in reverse order and average both."""


class Scoring(_Strict):
    use_logprobs: bool = True
    """Read answers from option log-likelihoods when the backend gives them."""
    weight_threshold: float = Field(default=0.0, ge=0.0)
    """Weighted items: keep keys with ``|w| > weight_threshold`` (Value Portrait: 0.3)."""
    weight_sign: WeightSign = Field(default="both", exclude_if=lambda v: v == "both")
    """Weighted items: keep keys of either sign (``both``), ``positive`` or ``negative`` ones
    (Value Portrait's headline table: ``positive`` with 0.3). Left out of dumps when ``both``."""
    n_boot: int = Field(default=1000, ge=0, le=100000)
    ci: float = Field(default=0.95, gt=0.5, lt=1.0)
    reducer: Literal["mean", "mode"] = Field(default="mean", exclude_if=lambda v: v == "mean")
    """How the answers of repeated samples (``repeats``) become one item score: their mean,
    or the most frequent score (ties: the mean of the tied scores)."""
    readout: Literal["argmax", "expected"] = Field(default="argmax", exclude_if=lambda v: v == "argmax")
    """The headline reading of option log-likelihoods: ``argmax`` (the most likely option) or
    ``expected`` (expected rating, P(yes), probability-weighted option value; centred scores
    compared). Both are computed; ``vspec score RUN --readout`` switches without a model.
    Left out of dumps when ``argmax``, so folders written before it keep their digests."""


class RunManifest(RunSpecBase):
    """Everything that defines a probe run; stored resolved in the run folder."""

    NO_ANSWER_FIELDS: ClassVar[frozenset[str]] = RunSpecBase.NO_ANSWER_FIELDS | {"scoring"}

    models: list[ModelEntry] = Field(min_length=1)
    probes: ProbeSelection = Field(default_factory=ProbeSelection)
    controls: Controls = Field(default_factory=Controls)
    prompt_style: PromptStyle = "plain"
    """How yes/no items are asked: plain, simple (JSON with reason and trait) or isq."""
    modalities: list[Modality] = Field(default_factory=lambda: list[Modality](["vision"]), min_length=1)
    """For items with media: show the frames (vision) and/or only their description (text)."""
    scoring: Scoring = Field(default_factory=Scoring)
    generation: GenerateConfig = Field(default_factory=lambda: GenerateConfig(max_new_tokens=16))
    batch_size: int = Field(default=8, ge=1, le=4096)
    wordings: list[Wording] = Field(default_factory=list, exclude_if=lambda v: not v)
    """Ask every item in each of these wordings (built-in ids or mappings with id and texts,
    see :mod:`valuespectrum.probes.wordings`), crossed with the label orders. Empty: the
    default prompt only, as runs without this field."""
    repeats: int = Field(default=1, ge=1, le=100, exclude_if=lambda v: v == 1)
    """Samples per request, each with its own seed (``generation.seed`` or ``seed``, plus the
    repeat index), reduced to one item score by ``scoring.reducer``."""

    @field_validator("wordings", mode="before")
    @classmethod
    def _wordings(cls, raw: object) -> object:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise ValueError("wordings must be a list of built-in wording ids or mappings with an id")
        return [coerce_wording(w) for w in raw]

    @field_validator("wordings")
    @classmethod
    def _unique_wordings(cls, v: list[Wording]) -> list[Wording]:
        check_unique((w.id for w in v), "wording ids must be unique; repeated: {}")
        return v

    def wording(self, wording_id: str) -> Wording | None:
        """The wording a record names ("" in runs with no wordings: the default prompt)."""
        if not wording_id:
            return self.wordings[0] if len(self.wordings) == 1 else None
        for w in self.wordings:
            if w.id == wording_id:
                return w
        raise KeyError(wording_id)

    @field_validator("modalities")
    @classmethod
    def _modalities(cls, v: list[Modality]) -> list[Modality]:
        return _unique(v, "modalities")

    @model_validator(mode="after")
    def _readout(self) -> RunManifest:
        if not self.scoring.use_logprobs and self.generation.score_options:
            # answers are parsed from text: no request asks for option scores it will not use
            self.generation = self.generation.model_copy(update={"score_options": False})
        if self.repeats > 1:
            if self.generation.temperature == 0.0:
                raise ValueError(
                    f"repeats: {self.repeats} with generation.temperature 0 would ask the same greedy "
                    "question several times for one answer; set generation.temperature above 0 "
                    "(e.g. 0.7) or repeats: 1"
                )
            if self.scoring.use_logprobs:
                raise ValueError(
                    f"repeats: {self.repeats} with scoring.use_logprobs: true reads every repeat from "
                    "the same option log-likelihoods, which sampling does not change; set "
                    "scoring.use_logprobs: false to score sampled answers, or repeats: 1"
                )
        for m in self.models:
            unknown = sorted(set(m.personas or []) - set(self.personas))
            if unknown:
                raise ValueError(f"model {m.name!r}: personas {unknown} are not among the run's personas")
        return self


def parse_manifest(raw: object, source: str = "<manifest>") -> RunManifest:
    return validate_mapping(RunManifest, raw, source)


def load_manifest(path: str | Path) -> RunManifest:
    """Read and validate a run manifest; relative paths inside stay relative to it."""
    return parse_manifest(load_yaml(path), str(path))


__all__ = [
    "Controls",
    "Describer",
    "IndexProbes",
    "ItemFile",
    "Modality",
    "ModelEntry",
    "ProbeSelection",
    "RunManifest",
    "Scoring",
    "format_validation_error",
    "load_config",
    "load_manifest",
    "load_yaml",
    "parse_manifest",
    "validate_mapping",
]
