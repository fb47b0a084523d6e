"""The ordinal comparison as an HTML page (and a report section)."""

from __future__ import annotations

from typing import Any

from valuespectrum.reports.page import Cell, Figure, Section, Table, render_page


def _cells(rows: list[dict[str, Any]], bayesian: bool) -> Table:
    heads = ["unit", "value", "mean", "sd", "95% low", "95% high"]
    out: list[list[Cell]] = [[r["unit"], r["value"], r["mean"], r["sd"], r["low"], r["high"]] for r in rows]
    return Table(heads, out, caption="posterior" if bayesian else "maximum likelihood (Wald)")


def _contrasts(rows: list[dict[str, Any]]) -> Table:
    heads = ["contrast", "centred", "mean", "95% low", "95% high", "P(< 0)"]
    out: list[list[Cell]] = [
        [r["name"], "yes" if r["centred"] else "no", r["mean"], r["low"], r["high"], r.get("p_below_zero")]
        for r in rows
    ]
    return Table(heads, out)


def ordinal_sections(summary: dict[str, Any], fig: Figure | None = None) -> list[Section]:
    b, f = summary["bayesian"], summary["frequentist"]
    excluded = ", ".join(f"{k}: {v}" for k, v in summary["excluded"].items()) or "none"
    intro = (
        f"{summary['model']}. {summary['n_ratings']} ratings on {summary['scale'][0]}..{summary['scale'][1]} "
        f"from {len(summary['units'])} units, {summary['n_items']} items; left out: {excluded}. "
        f"Priors: {b['priors']}. {summary['interval']}."
    )
    ppc_rows: list[list[Cell]] = []
    for p in b["ppc"]:
        for c, o, m, lo, hi in zip(
            p["categories"], p["observed"], p["predicted"], p["low"], p["high"], strict=True
        ):
            ppc_rows.append([p["unit"], c, o, m, lo, hi])
    cov_rows: list[list[Cell]] = [[r["name"], r["mean"], r["low"], r["high"]] for r in b["covariates"]]
    return [
        Section(
            id="ordinal-effects",
            title="Ordinal model: effects per unit and value",
            intro=intro,
            figures=[fig] if fig is not None else [],
            tables=[_cells(b["cells"], True), _cells(b["centred"], True)],
            notes=[*summary["notes"], *b["notes"]],
        ),
        Section(
            id="ordinal-targets",
            title="Target values against the baseline",
            intro=f"Baseline: {summary['baseline'] or 'every other unit'}.",
            tables=[_contrasts(b["target_contrasts"])],
            notes=[] if b["target_contrasts"] else ["No unit names target values (no persona targets)."],
        ),
        Section(
            id="ordinal-contrasts",
            title="Contrasts between units",
            tables=[_contrasts(b["contrasts"])],
        ),
        Section(
            id="ordinal-covariates",
            title="Label order and wording",
            tables=[Table(["covariate", "mean", "95% low", "95% high"], cov_rows)],
            notes=[] if cov_rows else ["One label order and one wording: no covariate to estimate."],
        ),
        Section(
            id="ordinal-ppc",
            title="Posterior predictive check",
            intro="Observed category shares per unit against shares replicated from the posterior.",
            tables=[Table(["unit", "rating", "observed", "predicted", "2.5%", "97.5%"], ppc_rows)],
        ),
        Section(
            id="ordinal-frequentist",
            title=f"Frequentist fit ({f['method']})",
            tables=[_cells(f["cells"], False)],
            notes=f["notes"],
        ),
    ]


def ordinal_page(summary: dict[str, Any], fig: Figure | None = None) -> str:
    return render_page(
        "Ordinal comparison",
        ordinal_sections(summary, fig),
        meta=f"{len(summary['units'])} units; {summary['n_ratings']} ratings",
    )
