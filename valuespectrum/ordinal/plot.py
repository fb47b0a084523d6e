"""A forest plot of unit x value effects with their 95% intervals (matplotlib, Agg)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from valuespectrum.reports.page import Figure


def forest_plot(
    panels: Sequence[tuple[str, list[dict[str, Any]]]],
    values: Sequence[str],
    units: Sequence[str],
    *,
    out_dir: Path,
    name: str = "ordinal-forest",
    title: str = "Ordinal effects per value (95% intervals)",
) -> Figure:
    """One panel per table of rows ``{unit, value, mean, low, high}``; a row per value, a colour per unit.

    Artists carry gids ``NAME-trace-I`` (unit I) so the SVG can be read structurally.
    """
    from valuespectrum.errors import require
    from valuespectrum.reports.figures import save

    require("matplotlib", extra="report", feature="the ordinal forest plot")
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    n_u = max(len(units), 1)
    fig, axes = plt.subplots(
        1,
        len(panels),
        figsize=(4.2 * len(panels) + 1.5, 0.45 * len(values) * max(1, n_u / 2) + 1.5),
        squeeze=False,
    )
    colours = plt.get_cmap("tab10")
    for ax, (panel_title, rows) in zip(axes[0], panels, strict=True):
        by = {(str(r["unit"]), str(r["value"])): r for r in rows}
        for i, unit in enumerate(units):
            off = (i - (n_u - 1) / 2) * (0.7 / n_u)
            ys, xs, lo, hi = [], [], [], []
            for j, v in enumerate(values):
                r = by.get((unit, v))
                if r is None:
                    continue
                ys.append(len(values) - 1 - j + off)
                xs.append(float(r["mean"]))
                lo.append(float(r["mean"]) - float(r["low"]))
                hi.append(float(r["high"]) - float(r["mean"]))
            ax.errorbar(
                xs,
                ys,
                xerr=[lo, hi],
                fmt="o",
                ms=4,
                capsize=2,
                color=colours(i % 10),
                label=unit,
                gid=f"{name}-trace-{i}",
            )
        ax.axvline(0.0, color="0.6", lw=0.8)
        ax.set_yticks(range(len(values)), list(reversed(list(values))))
        ax.set_title(panel_title, fontsize=10)
        ax.set_xlabel("effect on the latent rating (logit)")
    axes[0][0].legend(fontsize=8, loc="best")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return save(fig, name, title, out_dir)
