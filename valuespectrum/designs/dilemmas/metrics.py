"""Value preferences from dilemma choices.

Every parsed record is one binary choice between two values (both label orders count as
separate observations). ``pref(v) = chosen(v) / offered(v)``; the win-rate matrix
``W[v][u] = #(v chosen over u) / #(v offered against u)``; Bradley-Terry strengths by the
minorisation-maximisation algorithm with bootstrap CIs over dilemmas; intransitive triads
from the majority relation (``W[v][u] > 0.5``); Kendall tau between step rankings;
agreement between context modes; the share of "A" answers per label order (position bias).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def parsed(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r.get("chosen_value") is not None]


def preferences(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, float | int]]:
    """Per value: chosen, offered and their ratio, over the parsed records given."""
    out: dict[str, dict[str, float | int]] = {}
    for r in parsed(records):
        for v in r["shown_values"]:
            e = out.setdefault(v, {"chosen": 0, "offered": 0})
            e["offered"] += 1
        out[r["chosen_value"]]["chosen"] += 1
    for e in out.values():
        e["pref"] = e["chosen"] / e["offered"]
    return dict(sorted(out.items()))


def win_counts(records: Sequence[dict[str, Any]], values: Sequence[str]) -> np.ndarray:
    """``C[i, j]`` = times values[i] was chosen over values[j]."""
    idx = {v: i for i, v in enumerate(values)}
    c = np.zeros((len(values), len(values)))
    for r in parsed(records):
        if r["chosen_value"] != r["other_value"]:
            c[idx[r["chosen_value"]], idx[r["other_value"]]] += 1
    return c


def win_rates(records: Sequence[dict[str, Any]], values: Sequence[str]) -> dict[str, Any]:
    c = win_counts(records, values)
    n = c + c.T
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(n > 0, c / np.where(n > 0, n, 1), np.nan)
    return {
        "values": list(values),
        "rate": [[None if math.isnan(x) else float(x) for x in row] for row in w],
        "wins": c.astype(int).tolist(),
        "count": n.astype(int).tolist(),
    }


def bradley_terry(
    wins: np.ndarray, *, prior: float = 0.0, iters: int = 2000, tol: float = 1e-12
) -> np.ndarray:
    """Strengths (summing to 1) maximising the Bradley-Terry likelihood of ``wins[i, j]``.

    ``prior`` adds that many wins each way to every pair that met, so a value that never
    won (or never lost) keeps a finite strength.
    """
    w = np.asarray(wins, dtype=float).copy()
    met = (w + w.T) > 0
    w = w + prior * met
    n = w + w.T
    total = w.sum(axis=1)
    p = np.full(len(w), 1.0 / len(w))
    for _ in range(iters):
        with np.errstate(invalid="ignore", divide="ignore"):
            denom = np.nan_to_num(n / (p[:, None] + p[None, :])).sum(axis=1)
        new = np.where(denom > 0, total / np.where(denom > 0, denom, 1), 0.0)
        s = new.sum()
        new = new / s if s > 0 else p
        if np.max(np.abs(new - p)) < tol:
            p = new
            break
        p = new
    return p


def bt_with_ci(
    records: Sequence[dict[str, Any]],
    values: Sequence[str],
    *,
    n_boot: int = 500,
    seed: int = 0,
    prior: float = 0.5,
) -> dict[str, Any]:
    """Bradley-Terry strengths and percentile 95% CIs from resampling dilemmas."""
    rows = parsed(records)
    point = bradley_terry(win_counts(rows, values), prior=prior)
    by_d: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_d.setdefault(r["dilemma"], []).append(r)
    ids = sorted(by_d)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot if ids else 0):
        pick = rng.integers(0, len(ids), len(ids))
        sample = [r for k in pick for r in by_d[ids[k]]]
        boots.append(bradley_terry(win_counts(sample, values), prior=prior))
    if boots:
        arr = np.array(boots)
        lo, hi = np.percentile(arr, 2.5, axis=0).tolist(), np.percentile(arr, 97.5, axis=0).tolist()
    else:
        lo = hi = [None] * len(values)
    return {v: {"strength": float(point[i]), "ci": [lo[i], hi[i]]} for i, v in enumerate(values)} | {
        "_settings": {"prior": prior, "n_boot": n_boot, "seed": seed, "resampled": "dilemmas"}
    }


def intransitive_triads(rate: Sequence[Sequence[float | None]], values: Sequence[str]) -> list[list[str]]:
    """Cycles ``a > b > c > a`` of the majority relation, each listed once (starting at its first value)."""

    def beats(i: int, j: int) -> bool:
        x = rate[i][j]
        return x is not None and x > 0.5

    out = []
    for i, j, k in itertools.combinations(range(len(values)), 3):
        if beats(i, j) and beats(j, k) and beats(k, i):
            out.append([values[i], values[j], values[k]])
        elif beats(i, k) and beats(k, j) and beats(j, i):
            out.append([values[i], values[k], values[j]])
    return out


def ranking(prefs: dict[str, dict[str, float | int]]) -> list[str]:
    return sorted(prefs, key=lambda v: (-float(prefs[v]["pref"]), v))


def kendall_between(
    a: dict[str, dict[str, float | int]], b: dict[str, dict[str, float | int]]
) -> dict[str, Any]:
    """Kendall tau-b between two steps' preferences over the values offered in both."""
    common = sorted(set(a) & set(b))
    if len(common) < 2:
        return {"tau": None, "n_values": len(common)}
    from scipy.stats import kendalltau

    tau = kendalltau([a[v]["pref"] for v in common], [b[v]["pref"] for v in common]).statistic
    return {"tau": None if tau is None or math.isnan(tau) else float(tau), "n_values": len(common)}


def position_bias(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Share of "A" answers per label order; near 1 or 0 in both orders means position, not value."""
    out: dict[str, Any] = {}
    for order in sorted({r["order"] for r in records}):
        rows = [r for r in records if r["order"] == order and r.get("label") is not None]
        a = sum(r["label"] == "A" for r in rows)
        out[order] = {"share_A": a / len(rows) if rows else None, "n": len(rows)}
    # same dataset choice in both orders for a (context, dilemma, step)
    pairs: dict[tuple[str, str, int], dict[str, str]] = {}
    for r in parsed(records):
        pairs.setdefault((r["context"], r["dilemma"], r["step"]), {})[r["order"]] = r["chosen_choice"]
    both = [p for p in pairs.values() if len(p) == 2]
    same = sum(len(set(p.values())) == 1 for p in both)
    out["order_consistent"] = {"share": same / len(both) if both else None, "n": len(both)}
    return out


def context_agreement(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each pair of context modes: share of (dilemma, step, order) with the same choice."""
    by: dict[str, dict[tuple[str, int, str], str]] = {}
    for r in parsed(records):
        by.setdefault(r["context"], {})[(r["dilemma"], r["step"], r["order"])] = r["chosen_choice"]
    out = []
    for a, b in itertools.combinations(sorted(by), 2):
        common = sorted(set(by[a]) & set(by[b]))
        same = sum(by[a][k] == by[b][k] for k in common)
        out.append(
            {"contexts": [a, b], "agreement": same / len(common) if common else None, "n": len(common)}
        )
    return out


def summarize(
    records: Sequence[dict[str, Any]], values: Sequence[str], *, n_boot: int = 500, seed: int = 0
) -> dict[str, Any]:
    """Everything above, per context mode, plus the counts of parsed/unparsed/failed records."""
    out: dict[str, Any] = {"values": list(values), "contexts": {}}
    for ctx in sorted({r["context"] for r in records}):
        rows = [r for r in records if r["context"] == ctx]
        steps = sorted({r["step"] for r in rows})
        per_step = {s: preferences([r for r in rows if r["step"] == s]) for s in steps}
        wr = win_rates(rows, values)
        out["contexts"][ctx] = {
            "counts": {k: sum(r["status"] == k for r in rows) for k in ("parsed", "unparsed", "error")},
            "overall": preferences(rows),
            "per_step": {str(s): p for s, p in per_step.items()},
            "ranking_per_step": {str(s): ranking(p) for s, p in per_step.items()},
            "kendall_tau_consecutive": [
                {"steps": [a, b], **kendall_between(per_step[a], per_step[b])}
                for a, b in itertools.pairwise(steps)
            ],
            "win_rate": wr,
            "bradley_terry": bt_with_ci(rows, values, n_boot=n_boot, seed=seed),
            "intransitive_triads": intransitive_triads(wr["rate"], values),
            "position_bias": position_bias(rows),
        }
    out["context_agreement"] = context_agreement(records)
    return out
