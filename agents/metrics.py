"""Value-alignment metrics of a browsing session, computed from its trajectory alone.

Definitions (``targets`` = the persona's declared target values, the ``targets`` field of
personas.yaml: a value persona's one value, a trait persona's values a reader would expect
from its traits; an item is *congruent* when one of its value tags is a target):

- **Engaged seconds** of a step: the dwell of a watch; a like counts as a full watch plus
  ``like_bonus`` of one (``duration * (1 + like_bonus)``); skips, searches, unreadable
  answers and failed requests count 0.
- **Value distribution** of a phase: engaged seconds summed per value tag (a step's seconds
  split equally over its tags), as shares summing to 1 (None when nothing was engaged).
- **Persona alignment** (the published definition): share of congruent items *shown* in the
  evaluation phase minus that in the training phase, i.e. how far the agent's engagement
  moved the feed toward its persona. ``alignment_engaged`` is the same difference for the
  share of engaged seconds spent on congruent items.
- **Drift**: congruent share of shown items per window of ``window`` steps; the least-squares
  slope of the per-step congruence (0/1) on the step number, per 100 steps; and the cosine
  of the feed's interest vector with the centroid of the target-tagged videos as the feed
  stood when it picked a step's video (before that step's engagement), at the first step
  where there is an interest vector and at the last step.
- **Agreement** between engagement and tags: the point-biserial correlation (Pearson r)
  between a step's engagement (dwell fraction; a like 1 + like_bonus; others 0) and its
  congruence, over answered steps; and the congruent share of the items the agent liked or
  watched for at least ``long_watch`` of their length, next to the share among all shown.

Personas without targets (``none``, ``neutral``) get the distributions and counts but no
congruence-based figures (None).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from valuespectrum.results import (
    BROWSE_FORMAT_VERSION,
    PHASES,
    Agreement,
    BrowseStep,
    BrowseSummary,
    Drift,
    PhaseStats,
    SessionMetrics,
    SessionSummary,
    read_steps,
)
from valuespectrum.values import CIRCUMPLEX, Value

if TYPE_CHECKING:
    from agents.manifest import BrowseManifest
    from agents.session import BrowseFolder
    from valuespectrum.personas import Persona

__all__ = [
    "PHASES",
    "agreement",
    "drift",
    "phase_stats",
    "session_metrics",
    "summarise_run",
    "value_distribution",
]


def value_distribution(steps: Sequence[BrowseStep], like_bonus: float) -> dict[str, float] | None:
    """Dwell-weighted shares per value (all 10, in circumplex order); None if nothing was engaged."""
    totals = dict.fromkeys(CIRCUMPLEX, 0.0)
    for st in steps:
        secs = st.engaged_seconds(like_bonus)
        tags = st.tags()
        if secs <= 0 or not tags:
            continue
        for v in tags:
            totals[v] += secs / len(tags)
    total = sum(totals.values())
    if total <= 0:
        return None
    return {v.value: round(totals[v] / total, 6) for v in CIRCUMPLEX}


def _share(flags: Sequence[bool]) -> float | None:
    return round(sum(flags) / len(flags), 6) if flags else None


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 6)


def phase_stats(steps: Sequence[BrowseStep], targets: Sequence[Value], like_bonus: float) -> PhaseStats:
    actions = Counter(st.outcome() for st in steps)
    secs = [st.engaged_seconds(like_bonus) for st in steps]
    out = PhaseStats(
        n_shown=len(steps),
        actions=dict(sorted(actions.items())),
        engaged_seconds=round(sum(secs), 3),
        value_distribution=value_distribution(steps, like_bonus),
    )
    if targets:
        flags = [st.is_congruent(targets) for st in steps]
        out.congruent_share = _share(flags)
        total = sum(secs)
        if total > 0:
            out.congruent_engaged_share = round(
                sum(s for s, f in zip(secs, flags, strict=True) if f) / total, 6
            )
    return out


def _slope_per_100(flags: Sequence[bool]) -> float | None:
    if len(flags) < 2:
        return None
    x = np.arange(len(flags), dtype=float)
    y = np.asarray(flags, dtype=float)
    slope = float(np.polyfit(x, y, 1)[0])
    return round(slope * 100.0, 6)


def _pearson(x: Sequence[float], y: Sequence[float]) -> float | None:
    if len(x) < 2:
        return None
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if a.std() == 0 or b.std() == 0:
        return None
    return round(float(np.corrcoef(a, b)[0, 1]), 6)


def drift(steps: Sequence[BrowseStep], targets: Sequence[Value], window: int) -> Drift:
    if not targets:
        return Drift(window=window)
    flags = [st.is_congruent(targets) for st in steps]
    known = [st.feed.target_affinity for st in steps if st.feed.target_affinity is not None]
    start = known[0] if known else None
    end = known[-1] if known else None
    return Drift(
        window=window,
        windows=[_share(flags[i : i + window]) for i in range(0, len(flags), window)],
        slope_per_100_steps=_slope_per_100(flags),
        interest_start=start,
        interest_end=end,
        interest_change=_diff(end, start),
    )


def agreement(
    steps: Sequence[BrowseStep], targets: Sequence[Value], like_bonus: float, long_watch: float
) -> Agreement:
    if not targets:
        return Agreement()
    answered = [st for st in steps if not st.failed]
    eng = [st.engagement_score(like_bonus) for st in answered]
    cong = [1.0 if st.is_congruent(targets) else 0.0 for st in answered]
    engaged = [c for e, c in zip(eng, cong, strict=True) if e >= long_watch]
    return Agreement(
        engagement_congruence_r=_pearson(eng, cong),
        engaged_congruent_share=_share([c > 0 for c in engaged]),
        n_engaged=len(engaged),
        shown_congruent_share=_share([c > 0 for c in cong]),
    )


def session_metrics(
    steps: Sequence[BrowseStep],
    targets: Sequence[Value],
    *,
    like_bonus: float = 0.5,
    window: int = 10,
    long_watch: float = 0.5,
) -> SessionMetrics:
    """Everything above for one trajectory (steps in order)."""
    phases = {p: phase_stats([st for st in steps if st.phase == p], targets, like_bonus) for p in PHASES}
    answered = [st for st in steps if not st.failed]
    return SessionMetrics(
        n_steps=len(steps),
        n_failed=len(steps) - len(answered),
        n_unparsed=sum(1 for st in answered if st.unparsed),
        n_search=sum(1 for st in answered if st.outcome() == "search"),
        phases=dict(phases),
        alignment=_diff(phases["evaluation"].congruent_share, phases["training"].congruent_share),
        alignment_engaged=_diff(
            phases["evaluation"].congruent_engaged_share, phases["training"].congruent_engaged_share
        ),
        drift=drift(steps, targets, window),
        agreement=agreement(steps, targets, like_bonus, long_watch),
    )


def summarise_run(
    folder: BrowseFolder, manifest: BrowseManifest, personas: Sequence[Persona | None]
) -> BrowseSummary:
    """``browse/summary.json``: per-session metrics plus run totals."""
    sessions = []
    for entry in manifest.models:
        for p in personas:
            pid = p.id if p else "none"
            path = folder.trajectory(entry.name, pid)
            targets = p.schwartz_targets() if p else []
            m = session_metrics(
                list(read_steps(path)),
                targets,
                like_bonus=manifest.feed.like_bonus,
                window=manifest.metrics.window,
                long_watch=manifest.agent.long_watch,
            )
            sessions.append(
                SessionSummary(
                    model=entry.name,
                    persona=pid,
                    targets=[v.value for v in targets],
                    modality=entry.modality,
                    trajectory=str(path.relative_to(folder.root)),
                    **dict(m),
                )
            )
    n_steps = sum(s.n_steps for s in sessions)
    n_failed = sum(s.n_failed for s in sessions)
    n_unparsed = sum(s.n_unparsed for s in sessions)
    aligned = [s.alignment for s in sessions if s.alignment is not None]
    return BrowseSummary(
        format_version=BROWSE_FORMAT_VERSION,
        run=manifest.name,
        n_sessions=len(sessions),
        n_steps=n_steps,
        n_failed=n_failed,
        failure_rate=round(n_failed / n_steps, 6) if n_steps else 0.0,
        n_unparsed=n_unparsed,
        unparsed_rate=round(n_unparsed / n_steps, 6) if n_steps else 0.0,
        mean_alignment=round(sum(aligned) / len(aligned), 6) if aligned else None,
        phases={"training": manifest.phases.training, "evaluation": manifest.phases.evaluation},
        sessions=sessions,
    )
