"""The steering section of ``vspec report``: effects against controls, side effects, quality, interdependence.

A run-dir builder (see :mod:`valuespectrum.reports.sections`): it reads what ``vspec steer
eval`` wrote under ``RUN_DIR/steering/`` (``report.json``, optionally ``interdependence.json``)
and returns ``None`` when there is no such file. Figures and CSV/Parquet tables go to
``RUN_DIR/report``, beside the page. Register it with
``register_section(steering_section)`` or through the ``valuespectrum.report_sections`` entry point.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from valuespectrum.reports import figures, tables
from valuespectrum.reports.page import Cell, Figure, Section, Table
from valuespectrum.steering.interdependence import InterdependenceResult, read_interdependence
from valuespectrum.steering.summary import Condition, Effect, SteeringSummary, read_steering_summary
from valuespectrum.values import CIRCUMPLEX

REPORT_FILE = "steering/report.json"
INTERDEPENDENCE_FILE = "steering/interdependence.json"
Z_SUCCESS = 2.0


def load_steering(run_dir: Path) -> tuple[SteeringSummary, InterdependenceResult | None] | None:
    """The steering results of a run folder, or None when it has none; malformed files raise ConfigError."""
    path = Path(run_dir) / REPORT_FILE
    if not path.is_file():
        return None
    report = read_steering_summary(path)
    inter_path = Path(run_dir) / INTERDEPENDENCE_FILE
    inter = read_interdependence(inter_path) if inter_path.is_file() else None
    return report, inter


def effect_label(e: Effect) -> str:
    return f"{e.target.value} x{e.strength:g} ({e.method})"


def steering_section(run_dir: Path) -> Section | None:
    """Build the ``steering`` section from ``RUN_DIR/steering/``; None when the run has no steering data."""
    loaded = load_steering(Path(run_dir))
    if loaded is None:
        return None
    report, inter = loaded
    out = Path(run_dir) / "report"
    figs: list[Figure] = []
    tabs: list[Table] = []
    notes: list[str] = []
    base = report.condition("baseline")

    if report.effects:
        figs.append(_control_bars(report, out))
        figs.append(_side_effect_heatmap(report, out))
        tabs.append(_control_table(report))
    tabs.append(_quality_table(report))
    tabs.append(_persona_vs_vector_table(report))
    tables.write_table(_effect_rows(report), out, "steering_effects")
    tables.write_table(_condition_rows(report), out, "steering_conditions")

    if inter is not None:
        figs.append(_interdependence_heatmap(inter, out))
        tabs.extend(_interdependence_tables(inter))
        notes.extend(inter.notes)
    notes.insert(
        0,
        f"Label-order consistency at baseline: r = {_num(base.order_r)} "
        "(Pearson r of item scores between the two label orders; near -1 means answers by position).",
    )
    if report.gates:
        notes.append(
            "Gated mode with whole-input detectors: "
            + "; ".join(
                f"{g.value.value}: {g.pooling}-pooled probe at layer {g.layer} > {g.threshold:g} ({g.source})"
                for g in report.gates
            )
            + ". Requests the detector rejects run unsteered in the steered and random conditions alike."
        )
    return Section(
        id="steering",
        title="Steering effects",
        intro=(
            f"{report.model_id}, {report.mode} mode, {report.n_probes} probes, every condition answered in "
            f"{' and '.join(report.label_orders)} label order and averaged. A steering effect counts only "
            f"against {report.n_random} same-norm random vectors per strength (|z| >= {Z_SUCCESS:g}); "
            "persona prompting is measured against a neutral, value-free persona. Scores are 0-100 readouts "
            "from option log-likelihoods."
        ),
        figures=figs,
        tables=tabs,
        notes=notes,
    )


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.2f}"


def _control_bars(report: SteeringSummary, out: Path) -> Figure:
    effects = report.effects
    return figures.grouped_bars(
        [effect_label(e) for e in effects],
        [
            ("steering vector", [e.target_delta for e in effects]),
            ("random vectors (mean)", [e.random_mean for e in effects]),
            ("value persona - neutral persona", [e.persona_delta for e in effects]),
        ],
        name="steering-control-success",
        title="Target-value change: vector versus same-norm random vectors and persona prompting",
        out_dir=out,
        ylabel="change of target score (points)",
    )


def _deltas(report: SteeringSummary, e: Effect) -> list[float | None]:
    return [e.target_delta if v is e.target else e.side_effects.get(v) for v in CIRCUMPLEX]


def _side_effect_heatmap(report: SteeringSummary, out: Path) -> Figure:
    return figures.heatmap(
        [effect_label(e) for e in report.effects],
        [v.value for v in CIRCUMPLEX],
        [_deltas(report, e) for e in report.effects],
        name="steering-side-effects",
        title="Change of every value's score versus baseline, per steering target and strength",
        out_dir=out,
        cbar_label="steered - baseline (points)",
    )


def _control_table(report: SteeringSummary) -> Table:
    rows: list[list[Cell]] = []
    classes: dict[tuple[int, int], str] = {}
    for i, e in enumerate(report.effects):
        steered = _steered(report, e)
        rows.append(
            [
                e.target.value,
                e.method,
                e.strength,
                e.target_delta,
                e.random_mean,
                e.random_sd,
                e.z_vs_random,
                e.persona_delta,
                e.mean_abs_side_effect,
                None if steered is None else steered.order_r,
                None if steered is None else steered.steered_share,
                e.verdict,
            ]
        )
        if e.z_vs_random is None or abs(e.z_vs_random) < Z_SUCCESS:
            classes[(i, 6)] = "bad"
    return Table(
        [
            "target",
            "method",
            "strength",
            "Δ target",
            "random Δ mean",
            "random Δ sd",
            "z vs random",
            "persona Δ",
            "mean |side effect|",
            "order r",
            "steered share",
            "verdict",
        ],
        rows,
        caption="Control success: target change against same-norm random vectors and persona prompting",
        classes=classes,
    )


def _steered(report: SteeringSummary, e: Effect) -> Condition | None:
    return next(
        (
            c
            for c in report.conditions
            if c.kind == "steer" and c.target is e.target and c.strength == e.strength
        ),
        None,
    )


def _quality_table(report: SteeringSummary) -> Table:
    rows: list[list[Cell]] = []
    for c in report.conditions:
        if c.kind == "random":
            continue
        rows.append(
            [
                c.name,
                c.kind,
                c.capability,
                c.capability_delta,
                c.fluency.perplexity if c.fluency else None,
                c.perplexity_ratio,
                c.fluency.repetition_rate if c.fluency else None,
                c.order_r,
            ]
        )
    return Table(
        [
            "condition",
            "kind",
            "capability",
            "Δ capability",
            "perplexity",
            "perplexity / baseline",
            "repetition rate",
            "order r",
        ],
        rows,
        caption="Fluency and capability proxies (perplexity under the unsteered model; fixed arithmetic "
        "and copy items)",
    )


def _persona_vs_vector_table(report: SteeringSummary) -> Table:
    rows: list[list[Cell]] = []
    for e in report.effects:
        rows.append(
            [
                e.target.value,
                f"x{e.strength:g} ({e.method})",
                e.target_delta,
                e.mean_abs_side_effect,
                e.persona_delta,
                e.persona_mean_abs_side_effect,
            ]
        )
    return Table(
        [
            "target",
            "vector",
            "vector Δ target",
            "vector mean |side|",
            "persona Δ target",
            "persona mean |side|",
        ],
        rows,
        caption="Persona prompting versus the steering vector, side by side (persona against the neutral persona)",
    )


def _interdependence_heatmap(inter: InterdependenceResult, out: Path) -> Figure:
    return figures.heatmap(
        inter.values,
        inter.values,
        inter.effect_matrix,
        name="steering-interdependence",
        title="Value-to-value effects: row = steered value (vector or persona), column = affected value",
        out_dir=out,
        cbar_label="mean change (points)",
    )


def _interdependence_tables(inter: InterdependenceResult) -> list[Table]:
    chk = inter.circumplex
    rows: list[list[Cell]] = [
        [
            d,
            "neighbours" if d == 1 else "opposites" if d == 5 else "",
            inter.effect_by_distance.get(d),
            None if chk is None else chk.by_distance.get(d),
        ]
        for d in range(1, 6)
    ]
    verdict = (
        "" if chk is None else f" (correlations {'' if chk.consistent else 'not '}consistent with the circle)"
    )
    out = [
        Table(
            ["circular distance", "pair", "mean effect (points)", "mean correlation across runs"],
            rows,
            caption=f"Circumplex check over {inter.n_runs} runs: neighbours should move together, "
            f"opposites against each other{verdict}",
        )
    ]
    if inter.graph_method:
        out.append(
            Table(
                ["from", "edge", "to"],
                [[a, k, b] for a, b, k in inter.edges],
                caption=f"Causal graph among values, {inter.graph_method}: {len(inter.edges)} edges",
            )
        )
    return out


def _effect_rows(report: SteeringSummary) -> list[dict[str, Any]]:
    return [
        {
            "target": e.target.value,
            "method": e.method,
            "strength": e.strength,
            "value": v.value,
            "change": d,
            "is_target": v is e.target,
            "random_mean": e.random_mean,
            "random_sd": e.random_sd,
            "z_vs_random": e.z_vs_random,
            "persona_delta": e.persona_delta,
        }
        for e in report.effects
        for v, d in zip(CIRCUMPLEX, _deltas(report, e), strict=True)
    ]


def _condition_rows(report: SteeringSummary) -> list[dict[str, Any]]:
    return [
        {
            "condition": c.name,
            "kind": c.kind,
            "target": c.target.value if c.target else None,
            "strength": c.strength,
            "seed": c.seed,
            "value": v.value,
            "score": c.profile.get(v),
            "order_r": c.order_r,
            "capability": c.capability,
            "perplexity": c.fluency.perplexity if c.fluency else None,
            "repetition_rate": c.fluency.repetition_rate if c.fluency else None,
            "steered_share": c.steered_share,
        }
        for c in report.conditions
        for v in CIRCUMPLEX
    ]
