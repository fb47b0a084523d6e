"""Run-level analyses written into ``summary.json``: rank orders, agreement with references,
persona steerability, and the comparison of the models of one run.

Every analysis uses one measure per group: the like-rate (0-100) for yes/no items, the mean
item score otherwise (the same choice as the modality gap).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

from valuespectrum.personas import NO_PERSONA
from valuespectrum.scoring.items import ItemScore
from valuespectrum.scoring.profile import compare_profiles
from valuespectrum.scoring.stats import value_alpha
from valuespectrum.scoring.steerability import (
    measure_of,
    persona_effects,
    profile_values,
    steerability_overview,
)
from valuespectrum.value_systems import Dim, dim_name, dims_in
from valuespectrum.values import CIRCUMPLEX


def group_scores(group: Mapping[str, Any]) -> dict[Dim, float | None]:
    return profile_values(group["profile"])


def rank_order(scores: Mapping[Dim, float | None]) -> list[list[str]]:
    """Scored values from highest to lowest, tied values together (in circumplex order)."""
    known = sorted((v for v in dims_in(scores) if scores.get(v) is not None), key=lambda v: -float(scores[v]))  # type: ignore[arg-type]
    out: list[list[str]] = []
    last: float | None = None
    for v in known:
        x = float(scores[v])  # type: ignore[arg-type]
        if last is not None and abs(x - last) <= 1e-9:
            out[-1].append(dim_name(v))
        else:
            out.append([dim_name(v)])
        last = x
    return out


def rank_order_text(order: list[list[str]]) -> str:
    """``Hedonism > Power = Security > ...``"""
    return " > ".join(" = ".join(tied) for tied in order)


def reference_agreement(scores: Mapping[Dim, float | None]) -> dict[str, dict[str, Any]]:
    """Spearman's rho with every reference (human hierarchy, human baseline, the paper's models)."""
    from valuespectrum.references import get_reference, list_references

    out: dict[str, dict[str, Any]] = {}
    for name in list_references():
        c = compare_profiles(scores, dict(get_reference(name).scores))
        out[name] = {"rho": c.rho, "p_value": c.p_value, "n": c.n}
    return out


def model_agreement(groups: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Pairwise Spearman's rho between the models of a run, per (persona, modality)."""
    cells: dict[tuple[str, str], dict[str, dict[Dim, float | None]]] = {}
    for g in groups:
        cells.setdefault((str(g["persona"]), str(g["modality"])), {})[str(g["model"])] = group_scores(g)
    out = []
    for (persona, modality), models in sorted(cells.items()):
        for a, b in combinations(sorted(models), 2):
            c = compare_profiles(models[a], models[b])
            out.append(
                {
                    "persona": persona,
                    "modality": modality,
                    "model_a": a,
                    "model_b": b,
                    "rho": c.rho,
                    "p_value": c.p_value,
                    "n": c.n,
                    "mean_abs_diff": c.mean_abs_diff,
                }
            )
    return out


def annotate_groups(groups: list[dict[str, Any]], *, references: bool = True) -> None:
    """Add ``measure``, ``rank_order`` and ``references`` to each summary group in place
    (``references`` empty when the run's value system is not Schwartz's ten)."""
    for g in groups:
        scores = group_scores(g)
        g["measure"] = measure_of(g["profile"])
        g["rank_order"] = rank_order(scores)
        g["references"] = reference_agreement(scores) if references else {}


def steerability_summary(
    groups: Sequence[Mapping[str, Any]], targets: Mapping[str, Sequence[Dim]]
) -> dict[str, Any]:
    effects = persona_effects(groups, targets, baseline=NO_PERSONA)
    return {
        "baseline": NO_PERSONA,
        "personas": [e.to_json() for e in effects],
        "overview": steerability_overview(effects),
    }


def value_reliability(
    replications: Mapping[tuple[str, str, str], Mapping[str, Sequence[ItemScore]]],
) -> list[dict[str, Any]]:
    """Cronbach's alpha of each value's items, per (model, modality).

    ``replications[(model, persona, modality)][order]`` holds the item scores of one label
    order under one persona. Each (persona, order) is one row of the alpha matrix (a
    "respondent"), each probe scored in every row one column: alpha is high when a value's
    items move together across personas and orders. None where a value has fewer than two
    such probes, the model fewer than two rows, or the items no variance.
    """
    pooled: dict[tuple[str, str], list[Sequence[ItemScore]]] = {}
    for (model, _persona, modality), by_order in sorted(replications.items()):
        pooled.setdefault((model, modality), []).extend(items for _, items in sorted(by_order.items()))
    return [
        {
            "model": model,
            "modality": modality,
            "n_replications": len(reps),
            "alpha": {dim_name(v): a for v, a in value_alpha(reps).items()},
        }
        for (model, modality), reps in sorted(pooled.items())
    ]


COMPARISON_FIELDS = [
    "model",
    "modality",
    "persona",
    "measure",
    *[v.value for v in CIRCUMPLEX],
    "spread",
    "rank_order",
    "parse_rate",
    "n_unparsed",
    "n_failed",
    "rho_pan_cultural",
    "mean_target_rank",
]


def comparison_rows(groups: Sequence[Mapping[str, Any]], steer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One aligned row per (model, modality, persona): the run's comparison table."""
    mtr = {(p["model"], p["modality"], p["persona"]): p["mean_target_rank"] for p in steer["personas"]}
    rows = []
    for g in sorted(
        groups, key=lambda g: (g["persona"] != NO_PERSONA, g["persona"], g["modality"], g["model"])
    ):
        scores = group_scores(g)
        pan = (g.get("references") or {}).get("pan-cultural") or {}
        rows.append(
            {
                "model": g["model"],
                "modality": g["modality"],
                "persona": g["persona"],
                "measure": measure_of(g["profile"]),
                **{dim_name(v): scores[v] for v in scores},
                "spread": g["profile"].get("spread"),
                "rank_order": rank_order_text(rank_order(scores)),
                "parse_rate": g.get("parse_rate"),
                "n_unparsed": g["n_unparsed"],
                "n_failed": g["n_failed"],
                "rho_pan_cultural": pan.get("rho"),
                "mean_target_rank": mtr.get((g["model"], g["modality"], g["persona"])),
            }
        )
    return rows


def write_comparison_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else COMPARISON_FIELDS)
        w.writeheader()
        w.writerows(rows)
    tmp.replace(path)
