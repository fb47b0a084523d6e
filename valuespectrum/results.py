"""The typed results of every kind of run, and their write/read pairs: the public place to
import them from (``import valuespectrum as vs; vs.results.read_browse_summary(path)``).

Probe runs: :class:`RunRecord` (``responses.jsonl``), :class:`ScoreLine` (``scores.jsonl``),
:class:`RunSummary` with its :class:`GroupSummary` rows (``summary.json``). Browsing runs:
:class:`BrowseStep` (a trajectory line), :class:`BrowseSummary` (``browse/summary.json``).
Steering evaluations: :class:`SteeringSummary` (``steering/report.json``). Each is versioned;
folders written by 0.1 still read.
"""

from __future__ import annotations

from valuespectrum.runs.browse_log import (
    BROWSE_FORMAT_VERSION,
    PHASES,
    Action,
    Agreement,
    BrowseStep,
    BrowseSummary,
    Drift,
    FeedState,
    PhaseStats,
    SessionMetrics,
    SessionSummary,
    ShownVideo,
    StepDecision,
    read_browse_summary,
    read_steps,
    write_browse_summary,
    write_step,
)
from valuespectrum.runs.log import (
    FORMAT_VERSION,
    GroupSummary,
    RunRecord,
    RunSummary,
    ScoreLine,
    latest_records,
    read_records,
    read_scores,
    read_summary,
    write_scores,
    write_summary,
)
from valuespectrum.steering.summary import (
    STEERING_FORMAT_VERSION,
    Condition,
    Effect,
    SteeringSummary,
    read_steering_summary,
    write_steering_summary,
)

__all__ = [
    "BROWSE_FORMAT_VERSION",
    "FORMAT_VERSION",
    "PHASES",
    "STEERING_FORMAT_VERSION",
    "Action",
    "Agreement",
    "BrowseStep",
    "BrowseSummary",
    "Condition",
    "Drift",
    "Effect",
    "FeedState",
    "GroupSummary",
    "PhaseStats",
    "RunRecord",
    "RunSummary",
    "ScoreLine",
    "SessionMetrics",
    "SessionSummary",
    "ShownVideo",
    "SteeringSummary",
    "StepDecision",
    "latest_records",
    "read_browse_summary",
    "read_records",
    "read_scores",
    "read_steering_summary",
    "read_steps",
    "read_summary",
    "write_browse_summary",
    "write_scores",
    "write_steering_summary",
    "write_step",
    "write_summary",
]
