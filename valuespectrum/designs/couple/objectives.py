"""Value objectives: a 1-5 score per dimension of a value system and the dimensions that define it.

Scores follow the calibrated Likert criteria: 1 contradicted, 2 absent, 3 mentioned but not
important, 4 present but not central, 5 most important. An objective is defined by its top-k
dimensions (given explicitly, or the k highest scores, ties in the system's order); metrics are
computed on those. Loaders read YAML (``objectives: [{name, scores, dimensions?, source?}]``)
and long CSV (``name,value,score``); ``scale: ess6`` floors European Social Survey scores in
1..6 onto 1..5 (``min(5, floor(x))``, so 5.0-6.0 all become 5).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, field_validator, model_validator

from valuespectrum.config import repeated, validate_value
from valuespectrum.errors import ConfigError
from valuespectrum.tables import read_table
from valuespectrum.values import CIRCUMPLEX, parse_value

Scale = Literal["likert5", "ess6"]
SCHWARTZ10 = [v.value for v in CIRCUMPLEX]


def system_dimensions(system: str, names: Sequence[str] = ()) -> list[str]:
    """The dimensions of ``system``: Schwartz's 10 in circumplex order, or ``names`` for a free system."""
    if system == "schwartz10":
        return list(SCHWARTZ10)
    return list(dict.fromkeys(names))


def canonical(system: str, name: str) -> str:
    """A dimension name as the system spells it (Schwartz aliases such as ``SD`` or ``self_direction``)."""
    if system == "schwartz10":
        return parse_value(name).value
    text = str(name).strip()
    if not text:
        raise ValueError("empty dimension name")
    return text


def floor_1_6(score: float) -> int:
    """An ESS score in 1..6 floored onto the 1..5 scale (6 has no floor of its own: it becomes 5)."""
    if not (isinstance(score, int | float) and math.isfinite(score) and 1.0 <= score <= 6.0):
        raise ValueError(f"ESS score {score!r} is not a number from 1 to 6")
    return min(5, math.floor(score))


class ValueObjective(BaseModel):
    name: str
    system: str = "schwartz10"
    scores: dict[str, int]
    """1..5 per dimension."""
    dimensions: list[str] | None = None
    """The dimensions that define the objective (default: the ``k`` highest scores)."""
    source: str = ""

    @field_validator("scores")
    @classmethod
    def _scores(cls, v: dict[str, int]) -> dict[str, int]:
        if not v:
            raise ValueError("scores must name at least one dimension")
        for k, s in v.items():
            if not isinstance(s, int) or isinstance(s, bool) or not 1 <= s <= 5:
                raise ValueError(f"score of {k!r} is {s!r}; give an integer from 1 to 5")
        return v

    @model_validator(mode="after")
    def _names(self) -> ValueObjective:
        try:
            self.scores = {canonical(self.system, k): s for k, s in self.scores.items()}
            if self.dimensions is not None:
                self.dimensions = [canonical(self.system, d) for d in self.dimensions]
        except ValueError as exc:
            raise ValueError(f"objective {self.name!r}: {exc}") from exc
        missing = [d for d in self.dimensions or [] if d not in self.scores]
        if missing:
            raise ValueError(f"objective {self.name!r}: dimensions {missing} have no score")
        return self

    def top_k(self, k: int = 5) -> list[str]:
        """The defining dimensions: the explicit list, else the ``k`` highest scores (stable order)."""
        if self.dimensions:
            return list(self.dimensions)
        order = system_dimensions(self.system, list(self.scores))
        ranked = sorted((d for d in order if d in self.scores), key=lambda d: -self.scores[d])
        return ranked[:k]

    def target(self, k: int = 5) -> dict[str, int]:
        return {d: self.scores[d] for d in self.top_k(k)}


def _build(path: Path, where: str, data: dict[str, Any]) -> ValueObjective:
    return validate_value(ValueObjective, data, f"{path}: {where}")


def _score(raw: Any, scale: Scale, path: Path, where: str) -> int:
    try:
        x = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{path}: {where}: score {raw!r} is not a number") from None
    if scale == "ess6":
        try:
            return floor_1_6(x)
        except ValueError as exc:
            raise ConfigError(f"{path}: {where}: {exc}") from None
    if x != int(x) or not 1 <= x <= 5:
        raise ConfigError(f"{path}: {where}: score {raw!r} must be an integer 1-5 (or set scale: ess6)")
    return int(x)


def load_objectives(
    path: str | Path, *, scale: Scale = "likert5", system: str | None = None
) -> list[ValueObjective]:
    """Objectives from a YAML or a long CSV (``name,value,score``) file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: objectives file not found")
    objs = _load_csv(p, scale, system) if p.suffix.lower() == ".csv" else _load_yaml(p, scale, system)
    if not objs:
        raise ConfigError(f"{p}: no objectives")
    dup = repeated(o.name for o in objs)
    if dup:
        raise ConfigError(f"{p}: objective names repeat: {dup}")
    if len({o.system for o in objs}) > 1:
        raise ConfigError(f"{p}: objectives mix value systems {sorted({o.system for o in objs})}")
    return objs


def _load_yaml(p: Path, scale: Scale, system: str | None) -> list[ValueObjective]:
    from valuespectrum.config import load_yaml

    raw = load_yaml(p)
    if not isinstance(raw, dict) or not isinstance(raw.get("objectives"), list):
        raise ConfigError(f"{p}: expected a mapping with a list under 'objectives'")
    sys_id = str(raw.get("system", system or "schwartz10"))
    out = []
    for i, item in enumerate(raw["objectives"]):
        where = f"objectives[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("scores"), dict):
            raise ConfigError(f"{p}: {where}: needs 'name' and a 'scores' mapping")
        scores = {str(k): _score(v, scale, p, f"{where}.scores.{k}") for k, v in item["scores"].items()}
        out.append(_build(p, where, {**item, "system": item.get("system", sys_id), "scores": scores}))
    return out


def _load_csv(p: Path, scale: Scale, system: str | None) -> list[ValueObjective]:
    table = read_table(p, line_word="line")
    missing = [c for c in ("name", "value", "score") if c not in table.columns]
    if missing:
        raise ConfigError(
            f"{p}: missing column(s) {missing}; expected name,value,score (found {table.columns})"
        )
    grouped: dict[str, dict[str, int]] = {}
    for n, row in table.rows:
        name = (row.get("name") or "").strip()
        if not name:
            raise ConfigError(f"{p}: line {n}: field 'name' is empty")
        grouped.setdefault(name, {})[str(row.get("value")).strip()] = _score(
            row.get("score"), scale, p, f"line {n}"
        )
    return [
        _build(
            p,
            f"objective {name!r}",
            {"name": name, "system": system or "schwartz10", "scores": s, "source": p.name},
        )
        for name, s in grouped.items()
    ]
