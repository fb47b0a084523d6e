"""The terminal tables of a run asked in several wordings (``summary.json``'s ``wordings``)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from valuespectrum.runs.wording_summary import WordingsSummary
from valuespectrum.value_systems import short_label
from valuespectrum.values import CIRCUMPLEX


def _fmt(x: float | None, nd: int = 2) -> str:
    return "-" if x is None else f"{x:.{nd}f}"


def print_wordings(out: Console, raw: dict[str, Any] | WordingsSummary | None) -> None:
    """Per-wording profiles with their agreement, then the variance decomposition."""
    if not raw:
        return
    block = raw if isinstance(raw, WordingsSummary) else WordingsSummary.model_validate(raw)
    if not block.groups:
        return
    reps = f", {block.repeats} repeats reduced by {block.reducer}" if block.repeats > 1 else ""
    table = Table(title=f"profiles per wording ({len(block.wordings)} wordings, label orders pooled{reps})")
    for col in ("model", "persona", "wording"):
        table.add_column(col)
    first_profiles = next(iter(block.groups[0].profiles.values()), {})
    dims = list(first_profiles) or [v.value for v in CIRCUMPLEX]
    for v in dims:
        table.add_column(short_label(v), justify="right")
    for col in ("spread", "mean rho", "mean tau", "ICC(3,1)", "ICC(2,1)"):
        table.add_column(col, justify="right")
    for g in block.groups:
        for i, w in enumerate(block.wordings):
            first = i == 0
            table.add_row(
                g.model if first else "",
                g.persona if first else "",
                w,
                *[_fmt(g.profiles.get(w, {}).get(v)) for v in dims],
                _fmt(g.mean_spread) if first else "",
                _fmt(g.mean_spearman) if first else "",
                _fmt(g.mean_kendall) if first else "",
                _fmt(g.icc_consistency) if first else "",
                _fmt(g.icc_agreement) if first else "",
            )
    out.print(table)
    for g in block.groups:
        moved = [
            short_label(v) for v in dims if (e := g.effects.get(v)) and e.p_bh is not None and e.p_bh < 0.05
        ]
        tested = sum(1 for e in g.effects.values() if e.p_value is not None)
        if tested:
            out.print(
                f"{g.model} / {g.persona}: wording moves {', '.join(moved) if moved else 'no value'} "
                f"(permutation test, Benjamini-Hochberg p < 0.05 over {tested} values)"
            )
    dec = Table(title="share of item-score variance explained (main effects)")
    for col in ("model", "modality", "scores", "wording", "order", "persona", "item", "residual", "balanced"):
        dec.add_column(col, justify="left" if col in ("model", "modality") else "right")
    for d in block.decomposition:
        dec.add_row(
            d.model,
            d.modality,
            str(d.n_scores),
            *[_fmt(d.shares.get(f), 3) for f in ("wording", "order", "persona", "item")],
            _fmt(d.residual, 3),
            "yes" if d.balanced else "no",
        )
    out.print(dec)


__all__ = ["print_wordings"]
