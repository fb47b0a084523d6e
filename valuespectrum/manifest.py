"""Run manifests: YAML files (read with the safe loader) validated by pydantic.

Errors name the file and the field path (``models.0.spec``) and say what was expected, so a
user can fix the file without reading code. The CLI and library build the same object.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from valuespectrum.errors import ConfigError
from valuespectrum.probes.render import PromptStyle
from valuespectrum.types import GenerateConfig
from valuespectrum.values import Value, parse_value

Modality = Literal["vision", "text"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelEntry(_Strict):
    spec: str
    """Model spec: ``mock``, ``hf:ID_OR_PATH``, ``openai:NAME@URL`` or a plugin's."""
    label: str | None = None
    """Name used in tables (default: the spec)."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Backend settings (device, dtype, batch_size, api_key_env, script for mock...)."""
    modalities: list[Modality] | None = None
    """Override the run's modalities for this model (e.g. [text] for a text-only LLM)."""
    personas: list[str] | None = None
    """Ask this model under these of the run's personas only (default: all of them)."""

    @property
    def name(self) -> str:
        return self.label or self.spec


class ItemFile(_Strict):
    path: str
    """CSV, JSONL or Parquet file of items (relative to the manifest)."""
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
    files: list[ItemFile] = Field(default_factory=list)
    probe_set: str | None = None
    """A saved probe-set JSONL (e.g. built from a video index)."""
    from_index: IndexProbes | None = None
    """Build VQA items from an index; the items are stored with the run."""
    describe: Describer | None = None
    """Text modality from a description this model writes from the frames (greedy, cached)
    instead of the item's caption: the paper's image-description ablation."""
    values: list[Value] | None = None
    """Keep only probes informing these values (default: all)."""
    limit_per_value: int | None = Field(default=None, ge=1)

    @field_validator("values", mode="before")
    @classmethod
    def _values(cls, raw: object) -> object:
        if raw is None:
            return None
        if not isinstance(raw, list):
            raise ValueError("values must be a list of value names")
        return [parse_value(str(v)) for v in raw]


class Controls(_Strict):
    reverse_labels: bool = True
    """Also ask every item with the answer labels in reverse order and average both."""


class Scoring(_Strict):
    use_logprobs: bool = True
    """Read answers from option log-likelihoods when the backend gives them."""
    weight_threshold: float = Field(default=0.0, ge=0.0)
    n_boot: int = Field(default=1000, ge=0, le=100000)
    ci: float = Field(default=0.95, gt=0.5, lt=1.0)


class RunManifest(_Strict):
    """Everything that defines a run; stored resolved in the run folder."""

    name: str = "run"
    seed: int = 0
    models: list[ModelEntry] = Field(min_length=1)
    probes: ProbeSelection = Field(default_factory=ProbeSelection)
    personas: list[str] = Field(default_factory=lambda: ["none"])
    """Persona ids (``none`` = no system prompt); see ``vspec personas``."""
    personas_file: str | None = None
    controls: Controls = Field(default_factory=Controls)
    prompt_style: PromptStyle = "plain"
    """How yes/no items are asked: plain, simple (JSON with reason and trait) or isq."""
    modalities: list[Modality] = Field(default_factory=lambda: list[Modality](["vision"]), min_length=1)
    """For items with media: show the frames (vision) and/or only their description (text)."""
    scoring: Scoring = Field(default_factory=Scoring)
    generation: GenerateConfig = Field(default_factory=lambda: GenerateConfig(max_new_tokens=16))
    batch_size: int = Field(default=8, ge=1, le=4096)
    cache: bool | str = True
    """True: a shared cache under the data folder; a path: that SQLite file (relative to the
    manifest, like its other paths); False: none."""
    max_failure_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    """A run whose failed-request share exceeds this exits non-zero."""
    output_dir: str = "runs"

    @model_validator(mode="after")
    def _unique_labels(self) -> RunManifest:
        names = [m.name for m in self.models]
        dups = sorted({n for n in names if names.count(n) > 1})
        if dups:
            raise ValueError(f"model labels must be unique; repeated: {dups} (set 'label')")
        for m in self.models:
            unknown = sorted(set(m.personas or []) - set(self.personas))
            if unknown:
                raise ValueError(f"model {m.name!r}: personas {unknown} are not among the run's personas")
        return self


def format_validation_error(exc: ValidationError, source: str) -> str:
    lines = []
    for err in exc.errors()[:8]:
        loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling; see manifests/ for examples)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        lines.append(f"{source}: field '{loc}': {msg}")
    return "\n".join(lines)


ModelT = TypeVar("ModelT", bound=BaseModel)


def validate_mapping(cls: type[ModelT], raw: object, source: str) -> ModelT:
    """Validate parsed YAML/JSON into ``cls``; errors name the source and each bad field."""
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{source}: expected a mapping of fields at the top level, got {type(raw).__name__}"
        )
    try:
        return cls.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source)) from exc


def load_config(cls: type[ModelT], path: str | Path) -> ModelT:
    """Read a YAML file with the safe loader and validate it into ``cls``."""
    return validate_mapping(cls, load_yaml(path), str(path))


def parse_manifest(raw: object, source: str = "<manifest>") -> RunManifest:
    return validate_mapping(RunManifest, raw, source)


def load_yaml(path: str | Path) -> object:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read file ({exc.strerror or exc})") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{p}: invalid YAML{where}: {problem}") from exc


def load_manifest(path: str | Path) -> RunManifest:
    """Read and validate a run manifest; relative paths inside stay relative to it."""
    return parse_manifest(load_yaml(path), str(path))
