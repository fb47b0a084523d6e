"""Report for a decision run: the similarity table, per-person intervals and paired differences."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from valuespectrum.designs.html import page, table


def write_report(summary: dict[str, Any], folder: Path) -> Path:
    sim = table(
        ["assessor", "method", "reference", "similarity", "ci low", "ci high", "first choice", "n"],
        [
            [
                r["assessor"],
                r["method"],
                r["reference"],
                r["similarity"],
                r["ci"][0],
                r["ci"][1],
                r["first_choice"],
                r["n"],
            ]
            for r in summary["similarity"]
        ],
        caption="set-based ranking similarity (mean over depths of top-d overlap / d), mean over people/profiles",
    )
    sections = [("similarity", sim)]
    if summary["paired_differences"]:
        sections.append(
            (
                "paired bootstrap differences (over people)",
                table(
                    ["method", "minus", "mean", "ci low", "ci high", "n"],
                    [
                        [d["method"], d["minus"], d["mean"], d["lo"], d["hi"], d["n"]]
                        for d in summary["paired_differences"]
                    ],
                ),
            )
        )
    if summary.get("assessors"):
        sections.append(
            (
                "assessors",
                table(["assessor", "details"], [[k, str(v)] for k, v in summary["assessors"].items()]),
            )
        )
    return page(
        f"Value-driven decisions: {summary.get('model_id') or 'oracle only'}",
        sections,
        folder / "report.html",
    )
