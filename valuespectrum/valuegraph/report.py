"""The graph drawn (matplotlib, values on a circle) and an HTML report section around it."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from valuespectrum.valuegraph.graph import Edge


def draw_graph(values: Sequence[str], edges: set[Edge], stability: dict[Edge, float], path: Path) -> Path:
    """Values on a circle, reduced edges as arrows, darker where bootstrap resamples agree."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(values)
    pos = {v: (math.cos(2 * math.pi * i / n), math.sin(2 * math.pi * i / n)) for i, v in enumerate(values)}
    fig, ax = plt.subplots(figsize=(6, 6))
    for a, b in sorted(edges):
        s = stability.get((a, b), 0.0)
        ax.annotate(
            "",
            xy=pos[b],
            xytext=pos[a],
            arrowprops={
                "arrowstyle": "-|>",
                "color": (0.1, 0.2, 0.6, 0.3 + 0.7 * s),
                "lw": 1.5,
                "shrinkA": 14,
                "shrinkB": 14,
            },
        )
    for v, (x, y) in pos.items():
        ax.scatter([x], [y], s=300, color="#dde6f5", edgecolors="#30466e", zorder=3)
        ax.text(1.18 * x, 1.18 * y, v, ha="center", va="center", fontsize=8)
    ax.set_xlim(-1.5, 1.5)
    ax.set_ylim(-1.5, 1.5)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"PC value graph (transitively reduced, {len(edges)} edges)")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _f(x: Any) -> str:
    return "" if x is None else f"{x:.3f}" if isinstance(x, float) else html.escape(str(x))


def graph_section(result: dict[str, Any], image: str | None = "graph.png") -> str:
    """HTML: the figure, the edges with their bootstrap stability, the expected / unexpected table."""
    edges = "".join(
        f"<tr><td>{html.escape(a)} &rarr; {html.escape(b)}</td><td>{_f(result['bootstrap'].get(f'{a}->{b}'))}</td></tr>"
        for a, b in result["edges"]
    )
    cols = ["method", "target", "expected", "unexpected", "random_expected", "random_unexpected", "n_rows"]
    eff = "".join(
        "<tr>" + "".join(f"<td>{_f(r.get(c))}</td>" for c in cols) + "</tr>" for r in result["side_effects"]
    )
    img = f'<img src="{html.escape(image)}" alt="value graph" style="max-width:520px">' if image else ""
    return (
        "<section><h2>Value graph</h2>"
        f"<p>PC (Fisher-z, α {result['alpha']}) on {result['n_conditions']} conditions × {len(result['values'])} values; "
        f"{result['n_edges_pc']} directed edges, {len(result['edges'])} after transitive reduction.</p>{img}"
        "<table><tr><th>edge</th><th>bootstrap share</th></tr>" + edges + "</table>"
        "<h3>Side effects: expected (graph descendants) vs unexpected mean |Δ|</h3>"
        "<table><tr>" + "".join(f"<th>{c}</th>" for c in cols) + "</tr>" + eff + "</table></section>"
    )


def value_graph_section(run_dir: Path) -> Any:
    """Report section from ``RUN_DIR/graph/graph.json`` (what ``vspec graph RUN_DIR`` writes); None if absent."""
    import io
    import json

    from valuespectrum.reports.page import Figure, Section, Table

    src = Path(run_dir) / "graph" / "graph.json"
    if not src.is_file():
        return None
    result = json.loads(src.read_text(encoding="utf-8"))
    out = Path(run_dir) / "report"
    out.mkdir(parents=True, exist_ok=True)
    stab = {tuple(k.split("->", 1)): v for k, v in result["bootstrap"].items()}
    png = draw_graph(result["values"], {(a, b) for a, b in result["edges"]}, stab, out / "value-graph.png")  # type: ignore[arg-type]
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(mpimg.imread(png))
    ax.axis("off")
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    cols = ["method", "target", "expected", "unexpected", "random_expected", "random_unexpected", "n_rows"]
    return Section(
        id="value-graph",
        title="Value graph",
        intro=(
            f"PC (Fisher-z, alpha {result['alpha']}) on {result['n_conditions']} conditions x "
            f"{len(result['values'])} values: {result['n_edges_pc']} directed edges, "
            f"{len(result['edges'])} after transitive reduction."
        ),
        figures=[Figure("value-graph", "Value graph (darker: more stable under bootstrap)", svg, (png,))],
        tables=[
            Table(
                ["edge", "bootstrap share"],
                [[f"{a} -> {b}", result["bootstrap"].get(f"{a}->{b}")] for a, b in result["edges"]],
            ),
            Table(
                cols,
                [[r.get(c) for c in cols] for r in result["side_effects"]],
                caption="expected vs unexpected mean |delta|",
            ),
        ],
    )
