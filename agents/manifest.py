"""Browse manifests: which models browse the index as which personas, for how long.

Read with the safe YAML loader and validated by pydantic; errors name the file and the
field (``models.0.modality``). Relative paths (index, output folder, personas file) are
relative to the manifest's folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agents.feed import FeedConfig
from valuespectrum.manifest import load_config, validate_mapping
from valuespectrum.types import GenerateConfig


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BrowseModel(_Strict):
    spec: str
    """Model spec: ``mock``, ``hf:ID_OR_PATH``, ``openai:NAME@URL`` or a plugin's."""
    label: str | None = None
    """Name used in file names and tables (default: the spec)."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Backend settings (device, dtype, api_key_env, default/script for mock...)."""
    modality: Literal["vision", "text"] = "vision"
    """vision: the agent sees the sampled frames; text: only the caption (text-only LLMs)."""
    decision: Literal["json", "likelihood"] | None = None
    """Override ``agent.decision`` for this model (e.g. ``likelihood`` for a small local model)."""

    @property
    def name(self) -> str:
        return self.label or self.spec


class SyntheticCorpus(_Strict):
    """A value-clustered synthetic catalog (see agents.synthetic), for dry runs with no index."""

    per_value: int = Field(default=50, ge=1, le=100000)
    dim: int = Field(default=32, ge=2, le=4096)
    seed: int = 0


class IndexLocation(_Strict):
    synthetic: SyntheticCorpus | None = None
    """Browse a synthetic catalog instead of an index (no frames; search by caption words)."""
    data_dir: str = "vspec-data"
    """The index folder written by `vspec index` / `vspec demo` (holds chroma/ and frames/)."""
    collection: str = "vspec"
    chroma_host: str | None = None
    chroma_port: int = 8000


class Phases(_Strict):
    training: int = Field(default=100, ge=1)
    """Steps in which the feed learns from the agent (the published design used 100)."""
    evaluation: int = Field(default=50, ge=1)
    """Steps measured afterwards (the published design used 50)."""


class AgentSettings(_Strict):
    frames: Literal["all", "middle"] = "all"
    """Show every sampled frame (a video) or only the middle one (an image)."""
    allow_search: bool = True
    search_k: int = Field(default=5, ge=1, le=100)
    """Videos a search puts at the head of the feed."""
    long_watch: float = Field(default=0.5, gt=0.0, le=1.0)
    """A watch of at least this share of the video counts as engaged in the agreement metric."""
    decision: Literal["json", "likelihood"] = "json"
    """``json``: the model writes a JSON decision (any backend). ``likelihood``: the decision is
    read from the log-likelihoods of the words like / watch / skip (local models and servers
    with logprobs; for small models that do not write JSON reliably); no search then."""


class MetricSettings(_Strict):
    window: int = Field(default=10, ge=1)
    """Steps per window of the drift curve."""


class BrowseManifest(_Strict):
    """Everything that defines a browse run; stored resolved in the run folder."""

    name: str = "browse"
    seed: int = 0
    models: list[BrowseModel] = Field(min_length=1)
    personas: list[str] = Field(default_factory=lambda: ["none"], min_length=1)
    """Persona ids (``none`` = no system prompt); see ``vspec personas``."""
    personas_file: str | None = None
    index: IndexLocation = Field(default_factory=IndexLocation)
    phases: Phases = Field(default_factory=Phases)
    feed: FeedConfig = Field(default_factory=FeedConfig)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    metrics: MetricSettings = Field(default_factory=MetricSettings)
    generation: GenerateConfig = Field(default_factory=lambda: GenerateConfig(max_new_tokens=96))
    cache: bool | str = False
    """True: the shared response cache under the data folder; a path: that SQLite file; False: none."""
    max_failure_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    """A run whose failed-request share exceeds this exits non-zero."""
    output_dir: str = "runs"

    @model_validator(mode="after")
    def _unique_labels(self) -> BrowseManifest:
        names = [m.name for m in self.models]
        dups = sorted({n for n in names if names.count(n) > 1})
        if dups:
            raise ValueError(f"model labels must be unique; repeated: {dups} (set 'label')")
        if len(set(self.personas)) != len(self.personas):
            raise ValueError("personas must not repeat")
        return self


def parse_browse_manifest(raw: object, source: str = "<manifest>") -> BrowseManifest:
    return validate_mapping(BrowseManifest, raw, source)


def load_browse_manifest(path: str | Path) -> BrowseManifest:
    """Read and validate a browse manifest file."""
    return load_config(BrowseManifest, path)
