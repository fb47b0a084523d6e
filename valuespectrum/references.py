"""Reference value profiles to compare a model with: the pan-cultural human hierarchy, a human
PVQ-21 baseline, and the Value-Spectrum paper's per-model like-rates.

The figures live in ``valuespectrum/data/references.json`` with their sources. Rank
references are turned into scores where higher means more important (10 for the top value
of ten, 1 for the last), so Spearman's rho can compare them with any profile.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, field_validator

from valuespectrum.values import Value, parse_value


class Reference(BaseModel):
    """A named reference profile."""

    name: str
    description: str
    source: str
    scores: dict[Value, float]
    """Per-value score; for ``rank`` references, higher = more important (n - rank index)."""
    kind: Literal["rank", "score"]

    @field_validator("scores", mode="before")
    @classmethod
    def _keys(cls, raw: Any) -> dict[Value, float]:
        return {k if isinstance(k, Value) else parse_value(str(k)): float(w) for k, w in dict(raw).items()}


def _rank_scores(order: list[str], where: str) -> dict[Value, float]:
    values = [parse_value(v) for v in order]
    if len(set(values)) != len(values):
        raise ValueError(f"{where}: rank_order repeats a value")
    n = len(values)
    return {v: float(n - i) for i, v in enumerate(values)}


@lru_cache(maxsize=1)
def _load() -> dict[str, Reference]:
    path = "valuespectrum/data/references.json"
    data = json.loads(resources.files("valuespectrum").joinpath("data/references.json").read_text("utf-8"))
    refs: list[Reference] = []
    for r in data.get("rank_references", []):
        refs.append(
            Reference(
                name=r["name"],
                description=r["description"],
                source=r["source"],
                scores=_rank_scores(r["rank_order"], f"{path}: {r['name']}"),
                kind="rank",
            )
        )
    for r in data.get("score_references", []):
        refs.append(Reference(kind="score", **{k: r[k] for k in ("name", "description", "source", "scores")}))
    for t in data.get("tables", []):
        cols = t["columns"]
        for row, nums in t["rows"].items():
            if len(nums) != len(cols):
                raise ValueError(f"{path}: table row {row!r} has {len(nums)} numbers for {len(cols)} columns")
            refs.append(
                Reference(
                    name=f"{t['prefix']}:{row}",
                    description=t["description"].format(row=row),
                    source=t["source"],
                    scores=dict(zip(cols, nums, strict=True)),
                    kind="score",
                )
            )
    return {r.name: r for r in refs}


def list_references() -> list[str]:
    """Names of every reference, e.g. ``pan-cultural``, ``human-pvq21``, ``paper:GPT-4o``."""
    return list(_load())


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


def _short(name: str) -> str:
    """The name without a trailing parenthesis: ``paper:InternVL2 (26B)`` -> ``paper:internvl2``."""
    return _norm(re.sub(r"\s*\([^)]*\)\s*$", "", name))


def get_reference(name: str) -> Reference:
    """A reference by name (case and spacing ignored; a trailing size such as ``(26B)`` optional).

    Raises ValueError listing the valid names when nothing, or more than one, matches.
    """
    refs = _load()
    if name in refs:
        return refs[name]
    for match in (_norm, _short):
        hits = [r for n, r in refs.items() if match(n) == _norm(name)]
        if len(hits) == 1:
            return hits[0]
    raise ValueError(f"unknown reference {name!r}; valid names are: {', '.join(refs)}")
