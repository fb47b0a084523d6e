"""The ordinal comparison as sections of ``vspec report``.

``vspec compare --ordinal RUN... --out DIR`` writes ``DIR/ordinal.json`` and its forest plot;
a report of DIR, or of a run folder holding ``ordinal.json`` (or ``ordinal/ordinal.json``), shows
the same sections as ``ordinal.html``: posterior means and 95% intervals per unit x value (the
forest plot), target and between-unit contrasts with P(contrast < 0), the covariates, the
posterior predictive check and the frequentist fit. Nothing is refitted: the numbers are the
file's.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from valuespectrum.reports.page import Figure, Section

#: Where a folder's ordinal results may be, in order of preference.
ORDINAL_FILES = ("ordinal.json", "ordinal/ordinal.json")


def find_ordinal(run_dir: Path) -> Path | None:
    for rel in ORDINAL_FILES:
        path = Path(run_dir) / rel
        if path.is_file():
            return path
    return None


def _bare_name(name: str) -> bool:
    return Path(name).name == name and not name.startswith(".") and name.endswith((".svg", ".png"))


def _forest(path: Path, summary: dict[str, Any]) -> Figure | None:
    """The forest plot the comparison wrote beside ``ordinal.json`` (its SVG inlined)."""
    # only bare file names beside ordinal.json: a shared folder must not pull other files into a report
    names = [n for n in map(str, summary.get("figure") or []) if _bare_name(n)]
    svg_name = next((n for n in names if n.endswith(".svg")), None)
    if svg_name is None or not (path.parent / svg_name).is_file():
        return None
    svg = (path.parent / svg_name).read_text(encoding="utf-8")
    if "<svg" not in svg:
        return None
    stem = svg_name.removesuffix(".svg")
    inline = re.sub(r"<svg ", f'<svg data-figure="{stem}" role="img" ', svg[svg.index("<svg") :], count=1)
    files = tuple(p for n in names if (p := path.parent / n).is_file())
    return Figure(name=stem, title="Ordinal effects per value (95% intervals)", svg=inline, files=files)


def ordinal_report_sections(run_dir: Path) -> list[Section]:
    """The ordinal sections for a report of ``run_dir``; [] when it has no ordinal results, one
    section saying what is wrong when the file cannot be read."""
    from valuespectrum.ordinal.page import ordinal_sections

    path = find_ordinal(run_dir)
    if path is None:
        return []
    rel = path.relative_to(run_dir)
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
        sections = ordinal_sections(summary, _forest(path, summary))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [
            Section(
                id="ordinal-effects",
                title="Ordinal model",
                notes=[f"{rel}: could not be read ({exc}); run `vspec compare --ordinal` again."],
            )
        ]
    runs = ", ".join(str(r) for r in summary.get("runs") or []) or "the runs named in the file"
    intro = f"From {rel} (`vspec compare --ordinal` of {runs}). {sections[0].intro}"
    sections[0] = replace(sections[0], intro=intro)
    return sections
