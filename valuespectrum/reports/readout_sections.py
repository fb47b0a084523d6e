"""Report sections for the option-distribution readout, the bias verdicts and the persona
effects against chance; each reads the typed ``summary.json`` and recomputes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from valuespectrum.reports.page import Section, Table
from valuespectrum.runs.readout_view import bias_figures, chance_lines, group_name, readout_rows
from valuespectrum.value_systems import dim_name, short_label

if TYPE_CHECKING:
    from valuespectrum.reports.sections import ReportContext

MEASURES = {
    "like_rate": "like-rate, points of 100",
    "centred": "centred score (score - MRAT; P(yes) - mean P(yes))",
    "scores": "mean item score",
}


def readout_section(ctx: ReportContext) -> Section | None:
    summary = ctx.run.summary
    if summary is None:
        return None
    groups = [g.model_dump(mode="json") for g in summary.groups]
    rows = readout_rows(groups)
    if not rows:
        return None
    dims = [dim_name(v) for v in ctx.run.dims]
    return Section(
        id="readout",
        title="Readouts: argmax and expected",
        intro=f"The headline readout is {summary.readout}; every analysis in this report uses it. "
        "argmax reads the most likely option; expected reads the whole option distribution (expected "
        "rating, P(yes), probability-weighted option value) and compares centred scores. Both label "
        "orders are pooled through each label's meaning.",
        tables=[
            Table(
                [
                    "group",
                    "readout",
                    "measure",
                    *[short_label(v) for v in dims],
                    "spread",
                    "from distribution",
                ],
                [
                    [r.group, r.readout, MEASURES.get(r.measure, r.measure)]
                    + [r.values.get(v) for v in dims]
                    + [r.spread, r.from_distribution]
                    for r in rows
                ],
                caption="Per group and readout, the values on that readout's measure; 'from distribution' "
                "counts parsed answers read from option log-likelihoods (the rest were read from text).",
            )
        ],
        notes=[
            f"bounded readings: {summary.n_bounded} (option scores partly upper bounds from top_logprobs)"
        ],
    )


def bias_section(ctx: ReportContext) -> Section | None:
    summary = ctx.run.summary
    if summary is None or not any(g.bias for g in summary.groups):
        return None
    rows = []
    for g in summary.groups:
        for readout, b in sorted(g.bias.items()):
            d = b.model_dump(mode="json")
            rows.append([group_name(g.model_dump(mode="json")), readout, b.message, bias_figures(d)])
    return Section(
        id="bias",
        title="Answer bias",
        intro="Per group: the share of first-presented options chosen in each label order, the yes-rate, "
        "the correlation of items' answers across the two orders and the share of variance that label "
        "position explains. Thresholds: position share >= 0.5 or first-presented >= 0.8 in every order "
        "(position bias: the profile carries no value information); yes-rate >= 0.8 (or <= 0.2) for "
        "every value (acquiescent, or nay-saying).",
        tables=[Table(["group", "readout", "verdict", "figures"], rows, caption="Bias verdicts")],
    )


def chance_section(ctx: ReportContext) -> Section | None:
    summary = ctx.run.summary
    if summary is None or not summary.chance.personas:
        return None
    chance = summary.chance
    rows = [
        [
            p.model,
            p.persona,
            ", ".join(p.targets),
            p.mean_target_rank,
            p.chance_rank,
            p.p_value,
            r.value,
            r.change,
            r.n_items,
            r.ci_low,
            r.ci_high,
            r.p_value,
            r.p_holm,
            r.p_bh,
        ]
        for p in chance.personas
        for r in p.values
    ]
    return Section(
        id="chance",
        title="Persona effects against chance",
        intro="Per persona: the exact permutation test of its target values' mean rank among the value "
        "changes, and per value a paired t-test over the items answered with and without the persona, "
        f"with Holm and Benjamini-Hochberg adjusted p-values over the persona's values (alpha {chance.alpha:g}).",
        tables=[
            Table(
                [
                    "model",
                    "persona",
                    "targets",
                    "mean target rank",
                    "chance",
                    "rank p",
                    "value",
                    "change",
                    "items",
                    "CI low",
                    "CI high",
                    "p",
                    "p Holm",
                    "p BH",
                ],
                rows,
                caption="Per-value effects (change on the run's measure vs no persona)",
            )
        ],
        notes=chance_lines(chance.model_dump(mode="json")),
    )
