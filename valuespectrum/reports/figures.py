"""Matplotlib figures for reports (Agg backend), saved as PNG/SVG files and inlined as SVG.

Artists carry ``gid`` attributes (``NAME-trace-I``, ``NAME-label-I``; bars ``NAME-trace-I-bar-J``) that land in the SVG as
element ids, so tests and readers can find traces and labels structurally. Text stays text
in the SVG (``svg.fonttype = none``) for the same reason.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from valuespectrum.reports.page import Figure
from valuespectrum.value_systems import Dim
from valuespectrum.values import CIRCUMPLEX

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

#: Polar plots get at most this many traces; more groups go into further figures.
MAX_TRACES = 8


def _pyplot() -> Any:
    from valuespectrum.errors import require

    require("matplotlib", extra="report", feature="report figures")
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def save(fig: MplFigure, name: str, title: str, out_dir: Path) -> Figure:
    """Write ``NAME.png`` and ``NAME.svg`` to ``out_dir`` and return the inline SVG."""
    import matplotlib

    plt = _pyplot()
    out_dir.mkdir(parents=True, exist_ok=True)
    # Unique salt per figure: several SVGs inline in one page must not share element ids.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": name}):
        buf = io.StringIO()
        fig.savefig(buf, format="svg", bbox_inches="tight")
        fig.savefig(out_dir / f"{name}.png", format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    svg = buf.getvalue()
    (out_dir / f"{name}.svg").write_text(svg, encoding="utf-8")
    inline = svg[svg.index("<svg") :]
    inline = re.sub(r"<svg ", f'<svg data-figure="{name}" role="img" ', inline, count=1)
    return Figure(
        name=name, title=title, svg=inline, files=(out_dir / f"{name}.png", out_dir / f"{name}.svg")
    )


def _clean(xs: Sequence[float | None]) -> list[float]:
    return [float("nan") if x is None else float(x) for x in xs]


def polar_profiles(
    traces: Sequence[tuple[str, dict[Dim, float | None], dict[Dim, float | None], dict[Dim, float | None]]],
    *,
    name: str,
    title: str,
    out_dir: Path,
    radial_label: str = "",
) -> Figure:
    """Value profiles on the circumplex: one closed trace per (label, scores, ci_low, ci_high).

    Values go clockwise from the top in :data:`CIRCUMPLEX` order; CIs are shaded bands.
    """
    import numpy as np

    if len(traces) > MAX_TRACES:
        raise ValueError(f"polar_profiles takes at most {MAX_TRACES} traces, got {len(traces)}; split them")
    plt = _pyplot()
    n = len(CIRCUMPLEX)
    theta = np.linspace(0, 2 * np.pi, n, endpoint=False)
    closed = np.append(theta, theta[0])
    fig, ax = plt.subplots(figsize=(6.4, 5.6), subplot_kw={"projection": "polar"})
    ax.set_theta_zero_location("N")
    ax.set_theta_direction(-1)
    finite: list[float] = []
    for i, (label, scores, lo, hi) in enumerate(traces):
        s = _clean([scores.get(v) for v in CIRCUMPLEX])
        low = [x if (y := lo.get(v)) is None else float(y) for x, v in zip(s, CIRCUMPLEX, strict=True)]
        high = [x if (y := hi.get(v)) is None else float(y) for x, v in zip(s, CIRCUMPLEX, strict=True)]
        finite += [x for x in s + low + high if x == x]
        (line,) = ax.plot(closed, s + s[:1], marker="o", ms=3, lw=1.6, label=label)
        line.set_gid(f"{name}-trace-{i}")
        band = ax.fill_between(
            closed, low + low[:1], high + high[:1], color=line.get_color(), alpha=0.15, lw=0
        )
        band.set_gid(f"{name}-band-{i}")
    ax.set_xticks(theta)
    labels = ax.set_xticklabels([v.value for v in CIRCUMPLEX], fontsize=9)
    for i, t in enumerate(labels):
        t.set_gid(f"{name}-label-{i}")
    if finite:
        lo_r, hi_r = min(finite), max(finite)
        pad = 0.1 * (hi_r - lo_r) or 0.5
        ax.set_ylim(lo_r - pad, hi_r + pad)
    if radial_label:
        ax.set_title(radial_label, fontsize=9, color="#555", pad=18)
    ax.legend(loc="upper left", bbox_to_anchor=(1.08, 1.0), fontsize=8, frameon=False)
    return save(fig, name, title, out_dir)


def grouped_bars(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    name: str,
    title: str,
    out_dir: Path,
    ylabel: str = "",
) -> Figure:
    """Grouped bars: one bar per series within each category (missing values left empty)."""
    import numpy as np

    plt = _pyplot()
    x = np.arange(len(categories))
    k = max(len(series), 1)
    width = 0.8 / k
    fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(categories) * max(1, k / 2)), 3.8))
    for i, (label, ys) in enumerate(series):
        bars = ax.bar(x - 0.4 + width * (i + 0.5), _clean(ys), width, label=label)
        for j, patch in enumerate(bars.patches):  # a container has no SVG group of its own
            patch.set_gid(f"{name}-trace-{i}-bar-{j}")
    ax.set_xticks(x)
    ticks = ax.set_xticklabels(categories, rotation=30, ha="right", fontsize=8)
    for i, t in enumerate(ticks):
        t.set_gid(f"{name}-label-{i}")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="y", alpha=0.3)
    return save(fig, name, title, out_dir)


def heatmap(
    rows: Sequence[str],
    cols: Sequence[str],
    data: Sequence[Sequence[float | None]],
    *,
    name: str,
    title: str,
    out_dir: Path,
    cbar_label: str = "",
) -> Figure:
    """A diverging heatmap centred on 0 (red = up, blue = down), annotated with the numbers."""
    import numpy as np

    plt = _pyplot()
    m = np.array([_clean(r) for r in data], dtype=float).reshape(len(rows), len(cols))
    vmax = float(np.nanmax(np.abs(m))) if np.isfinite(m).any() else 1.0
    vmax = vmax or 1.0
    fig, ax = plt.subplots(figsize=(0.75 * len(cols) + 2.5, 0.4 * len(rows) + 1.8))
    im = ax.imshow(m, cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
    im.set_gid(f"{name}-cells")
    ax.set_xticks(range(len(cols)))
    for i, t in enumerate(ax.set_xticklabels(cols, rotation=35, ha="right", fontsize=8)):
        t.set_gid(f"{name}-label-{i}")
    ax.set_yticks(range(len(rows)))
    for i, t in enumerate(ax.set_yticklabels(rows, fontsize=8)):
        t.set_gid(f"{name}-row-{i}")
    for i in range(len(rows)):
        for j in range(len(cols)):
            if np.isfinite(m[i, j]):
                dark = abs(m[i, j]) > 0.6 * vmax  # white text on saturated cells
                ax.text(
                    j,
                    i,
                    f"{m[i, j]:+.2f}",
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    color="white" if dark else "black",
                )
    fig.colorbar(im, ax=ax, label=cbar_label, shrink=0.8)
    return save(fig, name, title, out_dir)
