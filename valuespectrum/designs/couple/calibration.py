"""How well an attributor's scores agree with a person's on a small labelled file.

The file is JSONL, one labelled response per line: ``{"id", "question", "response",
"scores": {value: 1..5}}``. Each response is attributed as in a run; expected-value scores
(options mode) are rounded half up to the nearest integer. Over every (response, value) pair the
person scored: exact agreement, within-one agreement and Cohen's kappa (unweighted and
quadratic, ``judges.calibration.cohen_kappa``) on the pairs the attributor scored; the pairs it
left unparsed are counted.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from valuespectrum.designs.couple.attribution import Attributor
from valuespectrum.designs.couple.objectives import canonical
from valuespectrum.errors import ConfigError
from valuespectrum.judges.calibration import cohen_kappa


def read_labelled(path: str | Path, system: str, dims: list[str]) -> list[dict[str, Any]]:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: labelled file not found")
    from valuespectrum.tables import read_table

    out = []
    for n, obj in read_table(p, line_word="line").rows:
        if not obj.get("response") or not isinstance(obj.get("scores"), dict):
            raise ConfigError(f"{p}: line {n}: needs 'response' and a 'scores' mapping (value -> 1..5)")
        scores = {}
        for k, v in obj["scores"].items():
            try:
                name = canonical(system, k)
            except ValueError as exc:
                raise ConfigError(f"{p}: line {n}: scores: {exc}") from exc
            if name not in dims:
                raise ConfigError(f"{p}: line {n}: scores: {name!r} is not one of the run's values {dims}")
            if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 5:
                raise ConfigError(f"{p}: line {n}: scores.{k} is {v!r}; give an integer from 1 to 5")
            scores[name] = v
        out.append(
            {
                "id": str(obj.get("id") or n),
                "question": str(obj.get("question") or ""),
                "response": str(obj["response"]),
                "scores": scores,
            }
        )
    if not out:
        raise ConfigError(f"{p}: no labelled responses")
    return out


def _round(x: float) -> int:
    return int(min(5, max(1, math.floor(x + 0.5))))


def calibrate(attributor: Attributor, path: str | Path, system: str) -> dict[str, Any]:
    items = read_labelled(path, system, attributor.dims)
    conf = np.zeros((5, 5), dtype=int)
    n_pairs = n_unparsed = 0
    rows = []
    for it in items:
        att = attributor.attribute(it["question"], it["response"])
        for d, human in it["scores"].items():
            n_pairs += 1
            got = att["scores"].get(d)
            if got is None:
                n_unparsed += 1
            else:
                conf[human - 1, _round(float(got)) - 1] += 1
            rows.append({"id": it["id"], "value": d, "human": human, "attributed": got})
    n = int(conf.sum())
    ii, jj = np.indices((5, 5))
    return {
        "source": Path(path).name,
        "model_id": attributor.caller.backend.model_id,
        "method": attributor.method,
        "n_responses": len(items),
        "n_pairs": n_pairs,
        "n_scored": n,
        "n_unparsed": n_unparsed,
        "exact": float(np.trace(conf)) / n if n else None,
        "within_one": float(conf[np.abs(ii - jj) <= 1].sum()) / n if n else None,
        "kappa": cohen_kappa(conf) if n else None,
        "kappa_quadratic": cohen_kappa(conf, "quadratic") if n else None,
        "confusion": conf.tolist(),
        "pairs": rows,
    }
