"""The report section of a run asked in several wordings: one profile per wording, how well
the wordings agree, and which factor (wording, label order, persona, item) the scores vary by.
Reads the typed ``wordings`` block of ``summary.json``; nothing is recomputed here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from valuespectrum.reports import figures
from valuespectrum.reports.page import Cell, Section, Table
from valuespectrum.value_systems import Dim, dim_name, short_label
from valuespectrum.values import CIRCUMPLEX

if TYPE_CHECKING:
    from valuespectrum.reports.sections import ReportContext

MAX_FIGURES = 6
"""Polar figures drawn (one per model and persona); the tables list every group."""


def _values(d: dict[str, float | None]) -> dict[Dim, float | None]:
    return {v: d.get(v.value) for v in CIRCUMPLEX}


def wordings_section(ctx: ReportContext) -> Section | None:
    block = ctx.run.summary.wordings if ctx.run.summary is not None else None
    if block is None or not block.groups:
        return None
    figs = []
    dims = [dim_name(v) for v in ctx.run.dims]
    for i, g in enumerate(block.groups[:MAX_FIGURES] if ctx.run.is_schwartz else []):
        figs.append(
            figures.polar_profiles(
                [
                    (
                        w,
                        _values(g.profiles.get(w, {})),
                        _values(g.ci_low.get(w, {})),
                        _values(g.ci_high.get(w, {})),
                    )
                    for w in block.wordings
                ],
                name=f"wordings-polar-{i + 1}",
                title=f"{g.model} / {g.persona}: one trace per wording, with item-bootstrap CIs",
                out_dir=ctx.fig_dir,
                radial_label="like-rate" if g.measure == "like_rate" else "mean item score",
            )
        )
    profile_rows: list[list[Cell]] = [
        [g.model, g.persona, w, *[g.profiles.get(w, {}).get(v) for v in dims], g.n_answers.get(w)]
        for g in block.groups
        for w in block.wordings
    ]
    spread_rows: list[list[Cell]] = [
        [g.model, g.persona, *[g.spread.get(v) for v in dims], g.mean_spread] for g in block.groups
    ]
    agree_rows: list[list[Cell]] = [
        [
            g.model,
            g.persona,
            g.mean_spearman,
            g.mean_kendall,
            g.icc_consistency,
            g.icc_agreement,
            g.icc_n_values,
        ]
        for g in block.groups
    ]
    pair_rows: list[list[Cell]] = [
        [g.model, g.persona, f"{p.a} vs {p.b}", p.spearman, p.kendall, p.n_values]
        for g in block.groups
        for p in g.pairs
    ]
    effect_rows: list[list[Cell]] = [
        [g.model, g.persona, short_label(v), e.n_items, e.statistic, e.p_value, e.p_holm, e.p_bh]
        for g in block.groups
        for v in dims
        if (e := g.effects.get(v)) is not None
    ]
    factors = ("wording", "order", "persona", "item")
    dec_rows: list[list[Cell]] = [
        [
            d.model,
            d.modality,
            d.n_scores,
            *[d.shares.get(f) for f in factors],
            d.residual,
            "yes" if d.balanced else "no",
        ]
        for d in block.decomposition
    ]
    repeats = (
        f" Each request was sampled {block.repeats} times; the repeats of an item were reduced by "
        f"their {block.reducer} before anything else."
        if block.repeats > 1
        else ""
    )
    notes = []
    if len(block.groups) > MAX_FIGURES:
        notes.append(
            f"The figures show the first {MAX_FIGURES} of {len(block.groups)} groups; the tables have all."
        )
    weak = [
        f"{g.model} / {g.persona}"
        for g in block.groups
        if g.mean_spearman is not None and g.mean_spearman < 0.5
    ]
    if weak:
        notes.append(
            "Mean rank agreement between wordings below 0.5 (the value order depends on the wording): "
            + ", ".join(weak)
            + "."
        )
    return Section(
        id="wordings",
        title="Prompt wordings",
        intro="Every item was asked in each wording "
        f"({', '.join(block.wordings)}) and both label orders; a profile that holds under one wording only "
        "shows as a large spread and low agreement." + repeats,
        figures=figs,
        tables=[
            Table(
                ["model", "persona", "wording", *[short_label(v) for v in dims], "answers"],
                profile_rows,
                caption="Profile per wording (label orders pooled)",
            ),
            Table(
                ["model", "persona", *[short_label(v) for v in dims], "mean"],
                spread_rows,
                caption="Spread across wordings: standard deviation of each value's wording scores",
            ),
            Table(
                ["model", "persona", "mean rho", "mean tau", "ICC(3,1)", "ICC(2,1)", "values"],
                agree_rows,
                caption="Profile reliability across wordings: mean pairwise Spearman rho and Kendall tau over "
                "the values, and the ICC of the values x wordings table (3,1: same ordering; 2,1: same numbers)",
            ),
            Table(
                ["model", "persona", "pair", "rho", "tau", "values"],
                pair_rows,
                caption="Pairwise rank agreement",
            ),
            Table(
                ["model", "persona", "value", "items", "statistic", "p", "p Holm", "p BH"],
                effect_rows,
                caption="Does the wording move the value's score? Permutation test within items (exact up to "
                "20,000 arrangements, else 5,000 seeded ones); p adjusted over the values by Holm (family-wise) "
                "and Benjamini-Hochberg (false discovery rate)",
            ),
            Table(
                ["model", "modality", "scores", *factors, "residual", "balanced"],
                dec_rows,
                caption="Share of the item-score variance each factor explains (main effects; residual = "
                "interactions and noise)",
            ),
        ],
        notes=notes,
    )


__all__ = ["wordings_section"]
