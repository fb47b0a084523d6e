"""report.html for a COUPLE run: metrics per method, per objective, the intervention and the costs."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from valuespectrum.designs.html import page, table


def write_report(summary: dict[str, Any], folder: Path) -> Path:
    methods = summary["methods"]
    overall = [
        [
            m,
            s["overall"]["n"],
            s["overall"]["mae"],
            s["overall"]["spearman"],
            s["overall"]["spearman_no_ties"],
            s["overall"]["n_spearman_none"],
            s["overall"]["n_unscored_dims"],
            s["n_failed_responses"],
        ]
        for m, s in methods.items()
    ]
    sections = [
        (
            "Setting",
            f"<p>generator <b>{html.escape(summary['generator'])}</b>, attributor "
            f"<b>{html.escape(summary['attributor'])}</b>, evaluator <b>{html.escape(summary['evaluator'])}</b>"
            f" ({html.escape(str(summary['score_methods']))}); value system {html.escape(summary['system'])}; "
            f"relations {html.escape(summary['relations'])}; tau {summary['tau']}; "
            f"{summary['n_pairs']} (objective, question) pairs.</p>"
            + (
                "<p><b>Warning: the evaluator is the generator.</b></p>"
                if summary["evaluator_is_generator"]
                else ""
            )
            + f"<p>{html.escape(summary['note'])}</p>",
        ),
        (
            "Agreement with the target profile",
            table(
                [
                    "method",
                    "responses",
                    "MAE",
                    "Spearman",
                    "Spearman (no-ties formula)",
                    "Spearman undefined",
                    "unscored target dims",
                    "failed responses",
                ],
                overall,
                caption="Evaluator scores vs target on each objective's defining dimensions (mean over responses)",
            ),
        ),
    ]
    per_rows = [
        [o, m, a["n"], a["mae"], a["spearman"], a["n_spearman_none"], a["n_unscored_dims"]]
        for m, s in methods.items()
        for o, a in s["per_objective"].items()
    ]
    sections.append(
        (
            "Per objective",
            table(["objective", "method", "n", "MAE", "Spearman", "undefined", "unscored"], per_rows),
        )
    )
    c = summary.get("couple")
    if c:
        sections.append(
            (
                "Intervention",
                table(
                    [
                        "pairs",
                        "intervened",
                        "mean delta",
                        "delta unknown",
                        "attribution dims unscored",
                        "counterfactual calls",
                        "unparsed",
                        "failed",
                        "without <answer> tags",
                    ],
                    [
                        [
                            c["n"],
                            c["n_intervened"],
                            c["mean_delta"],
                            c["n_delta_none"],
                            c["n_attribution_dims_unscored"],
                            c["counterfactual_calls"],
                            c["counterfactual_unparsed"],
                            c["counterfactual_failed"],
                            c["counterfactual_untagged"],
                        ]
                    ],
                ),
            )
        )
    calls = [
        [part, role, n]
        for part, roles in summary["calls_this_invocation"].items()
        for role, n in roles.items()
    ]
    sections.append(
        (
            "Model calls (this invocation; stored pairs are not asked again)",
            table(["backend", "role", "calls"], calls),
        )
    )
    cal = summary.get("calibration")
    if cal:
        sections.append(
            (
                "Evaluator calibration",
                table(
                    [
                        "file",
                        "responses",
                        "value pairs",
                        "scored",
                        "unparsed",
                        "exact",
                        "within one",
                        "kappa",
                        "quadratic kappa",
                    ],
                    [
                        [
                            cal["source"],
                            cal["n_responses"],
                            cal["n_pairs"],
                            cal["n_scored"],
                            cal["n_unparsed"],
                            cal["exact"],
                            cal["within_one"],
                            cal["kappa"],
                            cal["kappa_quadratic"],
                        ]
                    ],
                ),
            )
        )
    return page("COUPLE: responses toward a value profile", sections, folder / "report.html")
