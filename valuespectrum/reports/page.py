"""The pieces of a report page: sections, figures and tables, and the self-contained HTML.

Every string that comes from a run (model names, persona labels, answers) is untrusted and
goes through :func:`esc`; :class:`Section` bodies are built with the helpers here, which
escape for you. The page has inline CSS, inline SVG figures, no scripts and no external
requests, so it opens anywhere, offline.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

Cell = str | int | float | None


def esc(text: object) -> str:
    """HTML-escape any value (quotes too, so it is safe in attributes)."""
    return html.escape(str(text), quote=True)


def fmt(x: Cell, digits: int = 3) -> str:
    """A number for a table cell: ``-`` for missing, fixed digits for floats."""
    if x is None:
        return "-"
    if isinstance(x, float):
        return "nan" if x != x else f"{x:.{digits}f}"
    return str(x)


@dataclass(frozen=True)
class Figure:
    """A rendered figure: SVG markup to inline, plus the files written beside the report."""

    name: str
    """File stem and element id, e.g. ``profiles-polar-1``."""
    title: str
    svg: str
    """The ``<svg>`` element (no XML prolog)."""
    files: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Table:
    """A table to show; cells are escaped when rendered. ``classes`` maps (row, col) to a CSS class."""

    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    caption: str = ""
    classes: dict[tuple[int, int], str] = field(default_factory=dict)


@dataclass(frozen=True)
class Section:
    """One report section. ``id`` becomes ``<section id=...>`` and must be stable."""

    id: str
    title: str
    intro: str = ""
    """Plain text (escaped when rendered)."""
    figures: Sequence[Figure] = ()
    tables: Sequence[Table] = ()
    notes: Sequence[str] = ()
    """Plain-text remarks shown after the tables (escaped)."""


def render_table(t: Table) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in t.headers)
    body = []
    for i, row in enumerate(t.rows):
        cells = []
        for j, c in enumerate(row):
            cls = t.classes.get((i, j))
            attr = f' class="{esc(cls)}"' if cls else ""
            cells.append(f"<td{attr}>{esc(fmt(c))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{esc(t.caption)}</caption>" if t.caption else ""
    # Wide tables (many references) scroll inside their box instead of widening the page.
    return f'<div class="scroll"><table>{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def render_figure(f: Figure) -> str:
    return f'<figure id="fig-{esc(f.name)}" class="figure">{f.svg}<figcaption>{esc(f.title)}</figcaption></figure>'


def render_section(s: Section) -> str:
    parts = [f'<section id="{esc(s.id)}">', f"<h2>{esc(s.title)}</h2>"]
    if s.intro:
        parts.append(f"<p>{esc(s.intro)}</p>")
    parts.extend(render_figure(f) for f in s.figures)
    parts.extend(render_table(t) for t in s.tables)
    parts.extend(f'<p class="note">{esc(n)}</p>' for n in s.notes)
    parts.append("</section>")
    return "\n".join(parts)


_CSS = """
body{font-family:system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:2rem auto;max-width:1100px;
color:#1d1d1f;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2.2rem}
nav ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4rem 1.2rem}
table{border-collapse:collapse;margin:1rem 0;font-size:.85rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}th{background:#f4f4f6}
td:first-child,td:nth-child(2),th:first-child,th:nth-child(2){text-align:left}.scroll{overflow-x:auto}caption{text-align:left;font-weight:600;padding:.3rem 0}
figure{margin:1rem 0;display:inline-block;vertical-align:top}figure svg{max-width:100%;height:auto}
figcaption{font-size:.85rem;color:#555}.bad{color:#c00;font-weight:600}.note{color:#555;font-size:.9rem}
.meta{color:#555;font-size:.9rem}
"""


def render_page(title: str, sections: Sequence[Section], *, meta: str = "") -> str:
    """The whole self-contained HTML document."""
    nav = "".join(f'<li><a href="#{esc(s.id)}">{esc(s.title)}</a></li>' for s in sections)
    body = "\n".join(render_section(s) for s in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        'img-src data:">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{esc(title)}</h1>"
        + (f'<p class="meta">{esc(meta)}</p>' if meta else "")
        + f"<nav><ul>{nav}</ul></nav>\n{body}\n</body></html>\n"
    )
