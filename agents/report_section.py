"""The browsing section of a run report, built from ``RUN_DIR/browse/summary.json``.

Registered through the entry-point group ``valuespectrum.report_sections``
(``browsing = "agents.report_section:browsing_section"``). Tables: alignment and drift per
model x persona, dwell-weighted value distributions per phase; a figure of the congruent
share of the feed per window of steps.
"""

from __future__ import annotations

from pathlib import Path

from valuespectrum.errors import ConfigError
from valuespectrum.reports.page import Cell, Figure, Section, Table
from valuespectrum.results import PHASES, SessionSummary, read_browse_summary
from valuespectrum.values import CIRCUMPLEX

SUMMARY = Path("browse") / "summary.json"


def browsing_section(run_dir: Path) -> Section | None:
    """The ``browsing`` section, or None when the run folder holds no browse summary."""
    path = run_dir / SUMMARY
    if not path.is_file():
        return None
    try:
        summary = read_browse_summary(path)
    except (OSError, ConfigError) as exc:
        return Section(
            id="browsing", title="Browsing drift", notes=[f"{SUMMARY}: could not be read ({exc})."]
        )
    sessions = summary.sessions
    figures = []
    curves = [s for s in sessions if s.drift.windows]
    if curves:
        figures.append(drift_figure(curves, run_dir / "report"))
    notes = []
    if summary.n_failed:
        notes.append(f"{summary.n_failed} of {summary.n_steps} requests failed; failed steps engage nothing.")
    if summary.n_unparsed:
        notes.append(f"{summary.n_unparsed} answers could not be read and were treated as skips.")
    return Section(
        id="browsing",
        title="Browsing drift",
        intro="Each model browsed the index as a feed under each persona: a training phase in which the "
        "recommender learns from the agent's engagement, then an evaluation phase. Alignment is the share of "
        "persona-congruent videos shown in the evaluation phase minus that in the training phase; the slope "
        "is that share's trend per 100 steps; interest is the cosine of the feed's interest vector with the "
        "persona's value centroid (first and last step); r correlates engagement with congruence.",
        figures=figures,
        tables=[alignment_table(sessions), distribution_table(sessions)],
        notes=notes,
    )


def alignment_table(sessions: list[SessionSummary]) -> Table:
    rows: list[list[Cell]] = []
    classes: dict[tuple[int, int], str] = {}
    for i, s in enumerate(sessions):
        dr = s.drift
        rows.append(
            [
                s.model,
                s.persona,
                ", ".join(s.targets) or "-",
                s.n_steps,
                s.phase("training").congruent_share,
                s.phase("evaluation").congruent_share,
                s.alignment,
                dr.slope_per_100_steps,
                dr.interest_start,
                dr.interest_end,
                s.agreement.engagement_congruence_r,
                s.n_unparsed,
                s.n_failed,
            ]
        )
        if s.n_failed:
            classes[(i, 12)] = "bad"
    headers = [
        "model",
        "persona",
        "targets",
        "steps",
        "train congruent",
        "eval congruent",
        "alignment",
        "slope /100 steps",
        "interest start",
        "interest end",
        "engagement r",
        "unparsed",
        "failed",
    ]
    return Table(headers, rows, caption="Persona alignment and drift", classes=classes)


def distribution_table(sessions: list[SessionSummary]) -> Table:
    rows: list[list[Cell]] = []
    for s in sessions:
        for phase in PHASES:
            dist = s.phase(phase).value_distribution or {}
            rows.append([s.model, s.persona, phase, *[dist.get(v.value) for v in CIRCUMPLEX]])
    return Table(
        ["model", "persona", "phase", *[v.short for v in CIRCUMPLEX]],
        rows,
        caption="Dwell-weighted value distribution of engaged videos (a like = a full watch x 1.5 by default)",
    )


def drift_figure(sessions: list[SessionSummary], out_dir: Path) -> Figure:
    """Congruent share of shown videos per window, one line per session; the phase boundary dashed."""
    from valuespectrum.errors import require
    from valuespectrum.reports.figures import save

    require("matplotlib", extra="report", feature="report figures")
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    for i, s in enumerate(sessions[:12]):
        ys = [float("nan") if y is None else y for y in s.drift.windows]
        (line,) = ax.plot(range(1, len(ys) + 1), ys, marker="o", ms=3, label=f"{s.model} / {s.persona}")
        line.set_gid(f"browse-drift-trace-{i}")
    window = sessions[0].drift.window
    if window:
        train_steps = sessions[0].phase("training").n_shown
        ax.axvline(train_steps / window + 0.5, color="grey", ls="--", lw=1)  # end of the training phase
    ax.set_xlabel(f"window of {window or '?'} steps")
    ax.set_ylabel("persona-congruent share shown")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return save(fig, "browse-drift", "Drift of the feed toward each persona's values", out_dir)
