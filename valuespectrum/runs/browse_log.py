"""The typed results of a browsing run, versioned, each with one write/read pair.

- :class:`BrowseStep` — one line of ``browse/trajectories/<model>__<persona>.jsonl``: what the
  feed showed, its state, the prompt, the raw answer, the parsed decision, any search results;
- :class:`BrowseSummary` — ``browse/summary.json``: per-session metrics (see
  ``agents.metrics``) and the run totals.

The JSON keys are those of 0.1, so browse folders written by 0.1 still read and report
(their summary has no ``format_version``: it reads as 1). Readers turn a bad line into a
one-line error naming the file and line.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from valuespectrum.config import read_json_model, validate_value
from valuespectrum.runs.jsonl import JsonlWriter, write_json_atomic
from valuespectrum.runs.log import _read_lines, one_match
from valuespectrum.values import Value, parse_value

BROWSE_FORMAT_VERSION = 2
"""2: the summary carries ``format_version``; 1 (implicit): 0.1 browse folders."""

Phase = Literal["training", "evaluation"]
PHASES: tuple[Phase, ...] = ("training", "evaluation")
Action = Literal["watch", "like", "skip", "search"]


class _Lenient(BaseModel):
    """Result models ignore keys they do not know, so newer files still read."""

    model_config = ConfigDict(extra="ignore")


def _none_left_out(value: object) -> bool:
    return value is None


# -- one step --------------------------------------------------------------------------------


class ShownVideo(_Lenient):
    """What the agent was shown of a video."""

    platform: str = ""
    caption: str = ""
    duration_s: float
    values: list[str] = Field(default_factory=list)
    """The video's value tags (value names)."""
    frames: list[str] = Field(default_factory=list)
    """Paths of the frames shown (vision sessions)."""


class FeedState(BaseModel):
    """The feed as it stood when it picked the step's video (before the step's engagement)."""

    model_config = ConfigDict(extra="allow")  # a feed's own state keys (n_shown, queued...) are kept

    mode: str
    """How the feed chose the video: diverse, explore, exploit, search..."""
    score: float | None = None
    affinity: dict[str, float] | None = None
    """Cosine of the interest vector with each value's centroid (None before any interest)."""
    target_affinity: float | None = None
    """Cosine of the interest vector with the persona's target centroid."""


class StepDecision(_Lenient):
    """The parsed decision; an unreadable answer is a skip with ``parsed: false`` and the reason."""

    action: Action
    dwell_s: float = 0.0
    query: str | None = None
    reason: str = ""
    parsed: bool = True
    problem: str | None = None


class BrowseStep(_Lenient):
    """One step of a browsing session, as its trajectory line records it."""

    step: int
    phase: Phase
    model: str
    persona: str
    video_id: str
    shown: ShownVideo
    feed: FeedState
    request_key: str
    prompt: list[dict[str, Any]] = Field(default_factory=list)
    raw: str | None = None
    error: str | None = None
    failed: bool = False
    decision: StepDecision | None = None
    search_results: list[str] = Field(default_factory=list)
    latency_s: float = 0.0
    cached: bool = False

    def tags(self) -> list[Value]:
        return [parse_value(v) for v in self.shown.values]

    def is_congruent(self, targets: Sequence[Value]) -> bool:
        return bool(set(self.tags()) & set(targets))

    @property
    def unparsed(self) -> bool:
        """Answered, but the answer could not be read."""
        return not self.failed and (self.decision is None or not self.decision.parsed)

    def outcome(self) -> str:
        """``failed``, ``unparsed`` or the decision's action."""
        if self.failed:
            return "failed"
        if self.decision is None or not self.decision.parsed:
            return "unparsed"
        return self.decision.action

    def engaged_seconds(self, like_bonus: float) -> float:
        """A watch's dwell; a like a full watch plus ``like_bonus``; anything else 0."""
        action = self.outcome()
        if action == "like":
            return self.shown.duration_s * (1.0 + like_bonus)
        if action == "watch" and self.decision is not None:
            return self.decision.dwell_s
        return 0.0

    def engagement_score(self, like_bonus: float) -> float:
        """Engagement on a common scale: dwell fraction for a watch, 1 + like_bonus for a like."""
        return self.engaged_seconds(like_bonus) / (self.shown.duration_s or 1.0)


def write_step(writer: JsonlWriter, step: BrowseStep) -> None:
    """Append one step to an open trajectory."""
    writer.write(step.model_dump(mode="json"))


def read_steps(path: Path) -> Iterator[BrowseStep]:
    """The steps of a trajectory in file order; a torn last line (a killed run) is skipped."""
    for n, obj in _read_lines(path):
        yield validate_value(
            BrowseStep, obj, f"{path}: line {n}", fix="delete that line and run again to re-ask it"
        )


# -- the summary -----------------------------------------------------------------------------


class PhaseStats(_Lenient):
    n_shown: int = 0
    actions: dict[str, int] = Field(default_factory=dict)
    """Steps per outcome: an action, ``unparsed`` or ``failed``."""
    engaged_seconds: float = 0.0
    value_distribution: dict[str, float] | None = None
    """Engaged seconds per value as shares (None when nothing was engaged)."""
    congruent_share: float | None = None
    congruent_engaged_share: float | None = None


class Drift(_Lenient):
    window: int
    windows: list[float | None] = Field(default_factory=list)
    """Congruent share of the shown videos per window of steps."""
    slope_per_100_steps: float | None = None
    interest_start: float | None = None
    interest_end: float | None = None
    interest_change: float | None = None


class Agreement(_Lenient):
    engagement_congruence_r: float | None = None
    engaged_congruent_share: float | None = None
    n_engaged: int | None = Field(default=None, exclude_if=_none_left_out)
    """Steps engaged for at least ``long_watch`` (only for personas with targets)."""
    shown_congruent_share: float | None = None


class SessionKey(_Lenient):
    """Which session: model, persona (with its targets), modality and its trajectory file."""

    model: str
    persona: str
    targets: list[str] = Field(default_factory=list)
    modality: str = "text"
    trajectory: str = ""
    """The trajectory's path inside the run folder."""


class SessionMetrics(_Lenient):
    """The value-alignment metrics of one trajectory (definitions in ``agents.metrics``)."""

    n_steps: int = 0
    n_failed: int = 0
    n_unparsed: int = 0
    n_search: int = 0
    phases: dict[str, PhaseStats] = Field(default_factory=dict)
    alignment: float | None = None
    alignment_engaged: float | None = None
    drift: Drift
    agreement: Agreement = Field(default_factory=Agreement)

    def phase(self, name: Phase) -> PhaseStats:
        return self.phases.get(name) or PhaseStats()


class SessionSummary(SessionMetrics, SessionKey):
    """One session of ``browse/summary.json`` (the key fields first)."""


class BrowseSummary(_Lenient):
    """``browse/summary.json``."""

    format_version: int = 1
    run: str
    n_sessions: int = 0
    n_steps: int = 0
    n_failed: int = 0
    failure_rate: float = 0.0
    n_unparsed: int = 0
    unparsed_rate: float = 0.0
    mean_alignment: float | None = None
    phases: dict[str, int] = Field(default_factory=dict)
    """Steps per phase the manifest asks for."""
    sessions: list[SessionSummary] = Field(default_factory=list)

    def session(self, *, persona: str, model: str | None = None) -> SessionSummary:
        """The one session of ``persona`` (``model`` may be left out with one model)."""
        hits = [s for s in self.sessions if s.persona == persona and (model is None or s.model == model)]
        return one_match(
            hits,
            f"sessions match model={model!r} persona={persona!r}",
            [(s.model, s.persona) for s in self.sessions],
        )


def write_browse_summary(path: Path, summary: BrowseSummary) -> None:
    write_json_atomic(path, summary.model_dump(mode="json"))


def read_browse_summary(path: Path) -> BrowseSummary:
    return read_json_model(
        BrowseSummary,
        path,
        fix="run `vspec browse` again to rewrite it",
        missing="run `vspec browse` on the manifest to finish the run",
    )
