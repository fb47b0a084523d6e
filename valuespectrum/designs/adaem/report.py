"""Reports of the AdAEM designs: the questions that tell models apart, and the ratings per value."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from valuespectrum.designs.adaem.loop import ScoredQuestion
from valuespectrum.designs.html import page, table

CAVEAT = (
    "<p>Informativeness is the divergence among the models' extracted values plus their distance "
    "from the values the question itself expresses; it measures disagreement as the extractor "
    "reads it. With small models as generator, subjects and extractor this shows the pipeline "
    "working, not the published effects.</p>"
)


def write_generate_report(summary: dict[str, Any], questions: Sequence[ScoredQuestion], folder: Path) -> Path:
    arms = table(
        ["topic", "parent", "pulls", "mean reward"],
        [[a["topic"], a["parent"], a["pulls"], a["mean_reward"]] for a in summary["arms"]],
    )
    qs = table(
        ["question", "topic", "score", "spread (GJS)", "refined rounds", "unread judgments"],
        [[q.text, q.topic, q.score, q.spread, q.rounds, q.n_unread] for q in questions],
    )
    counts = table(
        [
            "questions kept",
            "dropped by the filter",
            "empty generations",
            "unread judgments",
            "calls made",
            "calls replayed",
        ],
        [
            [
                summary["n_questions"],
                len(summary["filtered"]),
                summary["n_unparsed_generations"],
                summary["n_unread_judgments"],
                summary["calls_made"],
                summary["calls_replayed"],
            ]
        ],
    )
    return page(
        f"AdAEM: generated questions (value system {summary['value_system']})",
        [("Counts", counts + CAVEAT), ("Questions by informativeness", qs), ("Topics (bandit arms)", arms)],
        folder / "report.html",
    )


def write_evaluate_report(summary: dict[str, Any], folder: Path) -> Path:
    models, values = summary["models"], summary["values"]
    profile = table(["model", *values], [[m, *[summary["profile"][m][v] for v in values]] for m in models])
    rows = []
    for v in values:
        r = summary["ratings"][v]
        for m in models:
            x = r["models"][m]
            ci = x["mu_ci"]
            rows.append(
                [
                    v,
                    m,
                    x["mu"],
                    x["sigma"],
                    x["win_rate"],
                    None if ci is None else f"{ci[0]:.2f} to {ci[1]:.2f}",
                    r["n_games"],
                ]
            )
    ratings = table(
        ["value", "model", "TrueSkill mu", "sigma", "win rate", "mu 95% bootstrap", "games"], rows
    )
    q = summary["quality"]
    quality = table(
        ["questions", "Self-BLEU", "mean pairwise similarity", "encoder"],
        [[q["n_questions"], q["self_bleu"], q["similarity"], q["encoder"]]],
    )
    counts = table(
        ["value judgments", "unread", "failed answers", "calls made", "calls replayed"],
        [
            [
                summary["n_judgments"],
                summary["n_unread_judgments"],
                summary["n_failed_answers"],
                summary["calls_made"],
                summary["calls_replayed"],
            ]
        ],
    )
    return page(
        f"AdAEM: models on a question set (value system {summary['value_system']})",
        [
            ("Value presence (share of questions whose answer expresses the value)", profile + CAVEAT),
            ("Ratings per value", ratings),
            ("Item set", quality),
            ("Counts", counts),
        ],
        folder / "report.html",
    )
