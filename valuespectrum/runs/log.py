"""The typed results of a run, versioned, each with one write/read pair.

- :class:`RunRecord` — one line of ``responses.jsonl`` (the request as sent, the response);
- :class:`ScoreLine` — one line of ``scores.jsonl`` (the parsed answer and item scores);
- :class:`GroupSummary` — one (model, persona, modality) profile with its counts;
- :class:`RunSummary` — ``summary.json``: the groups and the run-level analyses.

The JSON keys are those of 0.1, so folders written by 0.1 still read (``format_version``
is 1 for them); readers turn a bad line into a one-line error naming the file and line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from valuespectrum.config import read_json_model, validate_value
from valuespectrum.errors import ConfigError
from valuespectrum.runs.jsonl import write_json_atomic
from valuespectrum.runs.readout_log import BiasSummary, ChanceSummary, Readout
from valuespectrum.runs.records import RequestFields, RunRecord, record_id
from valuespectrum.runs.wording_summary import WordingsSummary
from valuespectrum.scoring.items import ItemScore
from valuespectrum.scoring.parse import ParsedAnswer
from valuespectrum.scoring.profile import ValueProfile
from valuespectrum.value_systems import SCHWARTZ10, Dim, dims_in

T = TypeVar("T")

FORMAT_VERSION = 2
"""2: adds ``format_version``, completeness (``n_expected``, ``n_missing``) and
``max_unparsed_rate`` to the summary; 1 (implicit): 0.1 folders."""

__all__ = [
    "FORMAT_VERSION",
    "BiasSummary",
    "ChanceSummary",
    "GroupSummary",
    "OrderAgreement",
    "RunRecord",
    "RunSummary",
    "ScoreLine",
    "SteerabilitySummary",
    "latest_records",
    "read_records",
    "read_scores",
    "read_summary",
    "record_id",
    "write_scores",
    "write_summary",
]


class _Lenient(BaseModel):
    """Result models ignore keys they do not know, so newer files still read."""

    model_config = ConfigDict(extra="ignore")


class ScoreLine(RequestFields, _Lenient):
    """How one record was read: the parsed answer and the item scores it gave."""

    answer: ParsedAnswer
    items: list[ItemScore] = Field(default_factory=list)
    # -- option-distribution readout
    distribution: dict[str, float] | None = None
    """Probability of each answer in the probe's own keying (ratings as "1".."6", yes/no,
    option labels), from the option log-likelihoods; None when the answer was read from text."""
    position: int | None = None
    """Presented position (0 = first shown) of the argmax answer."""
    expected_items: list[ItemScore] = Field(default_factory=list)
    """Item scores of the expected readout (from ``distribution``; the argmax answer when None)."""
    bounded: bool = False
    """Some option scores were upper bounds (a server's top_logprobs did not list them)."""
    option_scores: str | None = Field(default=None, exclude_if=lambda v: v is None)
    """How ``distribution`` was read: exact, topk (a server's first-token approximation) or bounded."""


class OrderAgreement(_Lenient):
    """Spearman's rho between the profiles from forward and reversed label orders."""

    rho: float | None = None
    p_value: float | None = None
    n: int = 0
    mean_abs_diff: float | None = None
    values: list[Dim] = Field(default_factory=list)


class GroupSummary(_Lenient):
    """One (model, persona, modality) of a scored run."""

    model: str
    persona: str
    modality: str = ""
    n_records: int
    n_parsed: int
    n_unparsed: int
    n_failed: int
    n_cached: int = 0
    parse_rate: float | None = None
    """Parsed share of the answers that did not fail."""
    profile: ValueProfile
    by_order: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    """Per label order, the per-value scores (position bias shows as a difference)."""
    order_agreement: OrderAgreement | None = None
    measure: str | None = None
    """The profile field analyses compare: ``like_rate`` (0-100) for yes/no items, else ``scores``."""
    rank_order: list[list[str]] = Field(default_factory=list)
    references: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # -- option-distribution readout and answer bias
    readout: Readout = "argmax"
    """Which readout ``profile`` (and every analysis) uses."""
    profiles: dict[str, ValueProfile] = Field(default_factory=dict)
    """The profile under each readout (``argmax``, ``expected``), side by side."""
    bias: dict[str, BiasSummary] = Field(default_factory=dict)
    """Answer-bias figures and verdict under each readout."""
    n_distribution: int = 0
    """Parsed answers read from option log-likelihoods (the rest: text, one-hot in ``expected``)."""
    n_bounded: int = 0
    """Records whose option scores were partly upper bounds (server top_logprobs)."""
    n_topk: int = 0
    """Option readings from a server's first-token approximation (options spanning tokens)."""
    n_exact: int = 0
    """Option readings with every option's own score (local models; servers where allowed)."""

    def values_on_measure(self) -> dict[Dim, float | None]:
        """The per-value numbers on this group's measure (like-rate, centred or mean score)."""
        default = "like_rate" if self.profile.scale == "endorse" else "scores"
        raw = getattr(self.profile, self.measure or default, None) or self.profile.scores
        return {v: raw.get(v) for v in dims_in(raw)}


class PersonaEffectLine(_Lenient):
    """A persona's value changes against the same model with no persona (see scoring.steerability)."""

    model: str
    modality: str = ""
    persona: str
    measure: str
    changes: dict[str, float] = Field(default_factory=dict)
    targets: list[str] = Field(default_factory=list)
    target_ranks: dict[str, float] = Field(default_factory=dict)
    mean_target_rank: float | None = None
    target_moved_most: bool | None = None
    n_values: int = 0


class SteerabilitySummary(_Lenient):
    baseline: str = "none"
    personas: list[PersonaEffectLine] = Field(default_factory=list)
    overview: list[dict[str, Any]] = Field(default_factory=list)


class RunSummary(_Lenient):
    """``summary.json``."""

    format_version: int = 1
    run: str
    models: list[str] = Field(default_factory=list)
    modality_gap: list[dict[str, Any]] = Field(default_factory=list)
    steerability: SteerabilitySummary = Field(default_factory=SteerabilitySummary)
    model_agreement: list[dict[str, Any]] = Field(default_factory=list)
    reliability: list[dict[str, Any]] = Field(default_factory=list)
    """Cronbach's alpha per value, per (model, modality) (absent in 0.1 folders)."""
    comparison: list[dict[str, Any]] = Field(default_factory=list)
    n_records: int = 0
    n_failed: int = 0
    n_unparsed: int = 0
    failure_rate: float = 0.0
    unparsed_rate: float = 0.0
    max_failure_rate: float = 0.0
    max_unparsed_rate: float = 1.0
    """1 in 0.1 folders, which had no such threshold."""
    n_expected: int | None = None
    """Requests the manifest asks for (None in 0.1 folders)."""
    n_missing: int = 0
    """Expected requests with no record: the run is incomplete when this is not 0."""
    groups: list[GroupSummary] = Field(default_factory=list)
    wordings: WordingsSummary | None = None
    """Per-wording profiles and their agreement (runs with several wordings or repeats)."""
    # -- option-distribution readout and chance tests
    readout: Readout = "argmax"
    """The headline readout every analysis above uses (``vspec score --readout`` switches)."""
    chance: ChanceSummary = Field(default_factory=ChanceSummary)
    """Persona effects against chance: target-rank permutation tests, per-value tests."""
    n_bounded: int = 0
    """Records whose option scores were partly upper bounds (server top_logprobs)."""
    value_system: str = Field(default=SCHWARTZ10, exclude_if=lambda v: v == SCHWARTZ10)
    """The value system the profiles are in (left out for Schwartz's ten, as folders before it)."""
    not_applicable: list[str] = Field(default_factory=list, exclude_if=lambda v: not v)
    """One line per Schwartz-only analysis skipped for another value system."""
    n_topk: int = 0
    """Option readings from a server's first-token approximation (see ``GroupSummary.n_topk``)."""
    n_option_readings: int = 0
    """Parsed answers read from option scores (the rest were read from text)."""
    n_exact: int = 0
    """Option readings with every option's own score; the rest are bounded or approximated."""

    @property
    def complete(self) -> bool:
        return self.n_missing == 0

    def group(
        self, *, model: str | None = None, persona: str = "none", modality: str | None = None
    ) -> GroupSummary:
        """The one group matching the given fields (``model`` may be left out in one-model runs)."""
        hits = [
            g
            for g in self.groups
            if g.persona == persona
            and (model is None or g.model == model)
            and (modality is None or g.modality == modality)
        ]
        return one_match(
            hits,
            f"groups match model={model!r} persona={persona!r} modality={modality!r}",
            [(g.model, g.persona, g.modality) for g in self.groups],
        )


def one_match(hits: list[T], what: str, choices: list[Any]) -> T:
    """The single element of ``hits``; else a KeyError saying how many matched and what there is."""
    if len(hits) != 1:
        raise KeyError(f"{len(hits)} {what}; there are: {choices}")
    return hits[0]


# -- write/read pairs -------------------------------------------------------------------


def write_summary(path: Path, summary: RunSummary) -> None:
    write_json_atomic(path, summary.model_dump(mode="json"))


def read_summary(path: Path) -> RunSummary:
    return read_json_model(
        RunSummary,
        path,
        fix="re-score the run with `vspec score`",
        missing=f"score the run first (`vspec score {path.parent}`)",
    )


def write_scores(path: Path, lines: Iterable[ScoreLine]) -> None:
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(x.model_dump_json() + "\n" for x in lines), encoding="utf-8")
    tmp.replace(path)


def _read_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of each complete line; a torn last line (a killed run) is skipped."""
    if not path.is_file():
        return
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            if not raw.endswith(b"\n"):
                break
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw.decode("utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(
                    f"{path}: line {n} is not a JSON record ({exc}); delete that line and run again "
                    "to re-ask it"
                ) from exc
            if not isinstance(obj, dict):
                raise ConfigError(f"{path}: line {n} is not a JSON object; delete that line and run again")
            yield n, obj


def read_scores(path: Path) -> Iterator[ScoreLine]:
    for n, obj in _read_lines(path):
        yield validate_value(ScoreLine, obj, f"{path}: line {n}", fix="re-score the run with `vspec score`")


def read_records(path: Path) -> Iterator[RunRecord]:
    """Every record of ``responses.jsonl`` in file order (a resumed request appears again)."""
    for n, obj in _read_lines(path):
        yield validate_value(
            RunRecord, obj, f"{path}: line {n}", fix="delete that line and run again to re-ask it"
        )


def latest_records(path: Path) -> dict[str, RunRecord]:
    """One record per request id: the last one written (a re-asked failure replaces the failure)."""
    out: dict[str, RunRecord] = {}
    for rec in read_records(path):
        out.pop(rec.record_id, None)
        out[rec.record_id] = rec
    return out
