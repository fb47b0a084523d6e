"""A small self-contained HTML page (tables and PNG figures beside it) for design reports."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, caption: str = "") -> str:
    def cell(x: Any) -> str:
        if x is None:
            return "–"
        if isinstance(x, float):
            return f"{x:.4f}"
        return html.escape(str(x))

    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in r) + "</tr>" for r in rows)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, sections: Sequence[tuple[str, str]], out: Path) -> Path:
    """Write ``out`` with an <h2> per (heading, html body) section."""
    parts = "".join(f"<section><h2>{html.escape(h)}</h2>{b}</section>" for h, b in sections)
    style = (
        "body{font-family:sans-serif;max-width:70em;margin:2em auto}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}caption{text-align:left;font-weight:bold}"
        "img{max-width:100%}"
    )
    out.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1>{parts}</body></html>\n",
        encoding="utf-8",
    )
    return out


def pyplot() -> Any:
    from valuespectrum.errors import require

    require("matplotlib", extra="report", feature="report figures")
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def save_png(fig: Any, out: Path) -> Path:
    """Lay out ``fig``, write it to ``out`` as a PNG and close it (figures are not kept open)."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
