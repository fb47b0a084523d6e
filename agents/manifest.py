"""Browse manifests: which models browse the index as which personas, for how long.

Read with the safe YAML loader and validated by pydantic; errors name the file and the
field (``models.0.modality``). Relative paths (index, output folder, personas file) are
relative to the manifest's folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from agents.feed import FeedConfig
from valuespectrum.config import load_config, validate_mapping
from valuespectrum.run_kit import ModelSpec, RunSpecBase
from valuespectrum.run_kit import Strict as _Strict
from valuespectrum.types import GenerateConfig


class BrowseModel(ModelSpec):
    modality: Literal["vision", "text"] = "vision"
    """vision: the agent sees the sampled frames; text: only the caption (text-only LLMs)."""
    decision: Literal["json", "likelihood"] | None = None
    """Override ``agent.decision`` for this model (e.g. ``likelihood`` for a small local model)."""


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


class BrowseManifest(RunSpecBase):
    """Everything that defines a browse run; stored resolved in the run folder."""

    NO_ANSWER_FIELDS: ClassVar[frozenset[str]] = RunSpecBase.NO_ANSWER_FIELDS | {"metrics"}

    name: str = "browse"
    models: list[BrowseModel] = Field(min_length=1)
    index: IndexLocation = Field(default_factory=IndexLocation)
    phases: Phases = Field(default_factory=Phases)
    feed: FeedConfig = Field(default_factory=FeedConfig)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    metrics: MetricSettings = Field(default_factory=MetricSettings)
    generation: GenerateConfig = Field(default_factory=lambda: GenerateConfig(max_new_tokens=96))
    cache: bool | str = False
    """True: the shared response cache under the data folder; a path: that SQLite file; False: none."""


def parse_browse_manifest(raw: object, source: str = "<manifest>") -> BrowseManifest:
    return validate_mapping(BrowseManifest, raw, source)


def load_browse_manifest(path: str | Path) -> BrowseManifest:
    """Read and validate a browse manifest file."""
    return load_config(BrowseManifest, path)
