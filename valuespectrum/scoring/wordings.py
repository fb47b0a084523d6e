"""How much a value profile depends on the prompt's wording (pure: typed score lines in).

A run that asks every item in several wordings, both label orders and possibly several
sampled repeats gets, per (model, persona, modality):

- a profile per wording (label orders pooled, repeats reduced to one score per item by the
  ``mean`` or ``mode`` reducer), with bootstrap CIs that resample items, so every answer to
  an item (its orders and repeats) stays in one cluster;
- the spread across wordings: per value, the standard deviation of its wording scores;
- profile reliability across wordings: Spearman's rho and Kendall's tau between each pair of
  wording profiles over the ten values, and the ICC of the values x wordings table;
- per value, a permutation test that its score is the same in every wording (scores are
  permuted among the wordings within each item), Holm- and Benjamini-Hochberg-adjusted over
  the values;

and per (model, modality) the share of the item-score variance that wording, label order,
persona and item each explain (main effects; the rest is residual).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from valuespectrum.probes.wordings import DEFAULT_WORDING_ID
from valuespectrum.runs.log import ScoreLine
from valuespectrum.runs.records import without_repeat
from valuespectrum.runs.wording_summary import (
    WordingDecomposition,
    WordingEffect,
    WordingGroup,
    WordingPair,
    WordingsSummary,
)
from valuespectrum.scoring.items import ItemScore
from valuespectrum.scoring.profile import build_profile
from valuespectrum.scoring.reliability import benjamini_hochberg, holm, icc, variance_decomposition
from valuespectrum.scoring.stats import spearman
from valuespectrum.value_systems import dim_name, dims_in

Reducer = Literal["mean", "mode"]

FACTORS = ("wording", "order", "persona", "item")
"""The factors of the variance decomposition."""

__all__ = [
    "FACTORS",
    "Reducer",
    "reduce_repeats",
    "reduce_scores",
    "summarise_wordings",
    "wording_effect_test",
]

MAX_EXACT = 20_000
"""Permutation tests enumerate every arrangement up to this many, else sample ``N_PERM``."""
N_PERM = 5_000


def reduce_scores(scores: Sequence[float], reducer: Reducer) -> float:
    """One score from a request's repeats: the mean, or the most frequent score (ties: the
    mean of the tied scores, so the result does not depend on the order of the repeats)."""
    if not scores:
        raise ValueError("no scores to reduce")
    if reducer == "mean":
        return sum(scores) / len(scores)
    counts = Counter(scores)
    top = max(counts.values())
    tied = sorted(s for s, c in counts.items() if c == top)
    return sum(tied) / len(tied)


def reduce_repeats(items: Sequence[ItemScore], reducer: Reducer) -> list[ItemScore]:
    """Item scores with the repeats of each request (same ``answer_id`` up to ``|r=N``)
    reduced to one; first-seen order kept. Items of runs without repeats pass unchanged."""
    groups: dict[tuple[str, str, str], list[ItemScore]] = defaultdict(list)
    for s in items:
        groups[(without_repeat(s.answer_id), s.probe_id, dim_name(s.value))].append(s)
    out = []
    for (answer_id, _, _), same in groups.items():
        raws = [s.raw for s in same if s.raw is not None]
        out.append(
            same[0].model_copy(
                update={
                    "answer_id": answer_id,
                    "score": reduce_scores([s.score for s in same], reducer),
                    "raw": reduce_scores(raws, reducer) if len(raws) == len(same) else None,
                }
            )
        )
    return out


@dataclass(frozen=True)
class _Obs:
    """One reduced item score with the conditions it was asked under."""

    model: str
    persona: str
    modality: str
    wording: str
    order: str
    item: ItemScore


def _observations(lines: Sequence[ScoreLine], reducer: Reducer) -> list[_Obs]:
    meta: dict[str, tuple[str, str, str, str, str]] = {}
    items: list[ItemScore] = []
    for line in lines:
        if line.answer.status != "parsed":
            continue
        key = without_repeat(line.record_id)
        meta[key] = (
            line.model,
            line.persona,
            line.variant or "text",
            line.wording or DEFAULT_WORDING_ID,
            line.order,
        )
        items.extend(i.model_copy(update={"answer_id": line.record_id}) for i in line.items)
    return [_Obs(*meta[s.answer_id], item=s) for s in reduce_repeats(items, reducer)]


def _none_if_nan(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def _kendall(a: Sequence[float], b: Sequence[float]) -> float | None:
    from scipy.stats import kendalltau

    if len(set(a)) < 2 or len(set(b)) < 2:
        return None
    return _none_if_nan(float(kendalltau(a, b).statistic))


def _group(
    key: tuple[str, str, str],
    obs: Sequence[_Obs],
    wordings: Sequence[str],
    *,
    n_boot: int,
    ci: float,
    seed: int,
) -> WordingGroup:
    model, persona, modality = key
    profiles: dict[str, dict[str, float | None]] = {}
    low: dict[str, dict[str, float | None]] = {}
    high: dict[str, dict[str, float | None]] = {}
    n_answers: dict[str, int] = {}
    measure = "scores"
    dims = dims_in(o.item.value for o in obs)
    for w in wordings:
        mine = [o.item for o in obs if o.wording == w]
        answers = len({i.answer_id for i in mine})
        prof = build_profile(
            mine, n_parsed=answers, n_unparsed=0, n_failed=0, n_boot=n_boot, ci=ci, seed=seed, dims=dims
        )
        endorse = prof.scale == "endorse"
        measure = "like_rate" if endorse else "scores"
        scale = 100.0 if endorse else 1.0
        basis = prof.like_rate if endorse else prof.scores
        profiles[w] = {dim_name(v): basis.get(v) for v in dims}
        low[w] = {dim_name(v): _scaled(prof.ci_low.get(v), scale) for v in dims}
        high[w] = {dim_name(v): _scaled(prof.ci_high.get(v), scale) for v in dims}
        n_answers[w] = answers
    # values scored under every wording: the table of spread and ICC
    full = [dim_name(v) for v in dims if all(profiles[w].get(dim_name(v)) is not None for w in wordings)]
    table = [[float(profiles[w][v] or 0.0) for w in wordings] for v in full]
    spread: dict[str, float | None] = {dim_name(v): None for v in dims}
    for v, row in zip(full, table, strict=True):
        mean = sum(row) / len(row)
        spread[v] = math.sqrt(sum((x - mean) ** 2 for x in row) / len(row))
    known = [x for x in spread.values() if x is not None]
    pairs = [_pair(a, b, profiles) for a, b in itertools.combinations(wordings, 2)]
    rhos = [p.spearman for p in pairs if p.spearman is not None]
    taus = [p.kendall for p in pairs if p.kendall is not None]
    icc_c = icc_a = None
    if len(full) >= 2 and len(wordings) >= 2:
        icc_c = _none_if_nan(icc(table, "consistency"))
        icc_a = _none_if_nan(icc(table, "agreement"))
    return WordingGroup(
        model=model,
        persona=persona,
        modality=modality,
        measure=measure,
        profiles=profiles,
        ci_low=low,
        ci_high=high,
        n_answers=n_answers,
        spread=spread,
        mean_spread=sum(known) / len(known) if known and len(wordings) >= 2 else None,
        pairs=pairs,
        mean_spearman=sum(rhos) / len(rhos) if rhos else None,
        mean_kendall=sum(taus) / len(taus) if taus else None,
        icc_consistency=icc_c,
        icc_agreement=icc_a,
        icc_n_values=len(full) if icc_c is not None or icc_a is not None else 0,
        effects=_effects(obs, wordings, seed),
    )


def _spread_stat(table: Sequence[Sequence[float]]) -> float:
    k = len(table[0])
    cols = [sum(r[j] for r in table) / len(table) for j in range(k)]
    grand = sum(cols) / k
    return sum((c - grand) ** 2 for c in cols)


def wording_effect_test(table: Sequence[Sequence[float]], *, seed: int = 0) -> tuple[float, float, bool]:
    """(statistic, p, exact) for "the wordings give the same scores" on an items x wordings
    table: each item's scores are permuted among the wordings; the statistic is the sum of
    squared deviations of the wording means from the grand mean. Exact enumeration when there
    are at most ``MAX_EXACT`` arrangements, else ``N_PERM`` seeded random ones."""
    import numpy as np

    if len(table) < 1 or len(table[0]) < 2 or any(len(r) != len(table[0]) for r in table):
        raise ValueError("the wording test needs a full table of items x at least 2 wordings")
    observed = _spread_stat(table)
    tol = 1e-12 * max(1.0, abs(observed))
    k = len(table[0])
    if math.factorial(k) ** len(table) <= MAX_EXACT:
        perms = [list(itertools.permutations(r)) for r in table]
        hits = total = 0
        for combo in itertools.product(*perms):
            total += 1
            hits += _spread_stat(combo) >= observed - tol
        return observed, hits / total, True
    rng = np.random.default_rng(seed)
    x = np.broadcast_to(np.asarray(table, dtype=float), (N_PERM, len(table), k))
    cols = rng.permuted(x, axis=2).mean(axis=1)  # (N_PERM, k): wording means of each arrangement
    stats = ((cols - cols.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    hits = int((stats >= observed - tol).sum())
    return observed, (hits + 1) / (N_PERM + 1), False


def _effects(obs: Sequence[_Obs], wordings: Sequence[str], seed: int) -> dict[str, WordingEffect]:
    """Per value: the wording test on its items' scores (label orders averaged)."""
    cells: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for o in obs:
        cells[(dim_name(o.item.value), o.item.probe_id, o.wording)].append(o.item.score)
    out: dict[str, WordingEffect] = {}
    for dim in dims_in(val for (val, _, _) in cells):
        v = dim_name(dim)
        items = sorted({p for (val, p, _) in cells if val == v})
        table = [[sum(c) / len(c) for w in wordings if (c := cells.get((v, p, w)))] for p in items]
        table = [r for r in table if len(r) == len(wordings)]
        if not table or len(wordings) < 2:
            continue
        stat, p, exact = wording_effect_test(table, seed=seed)
        out[v] = WordingEffect(n_items=len(table), statistic=stat, p_value=p, exact=exact)
    names = list(out)
    ps = [out[n].p_value or 0.0 for n in names]
    for n, ph, pb in zip(names, holm(ps), benjamini_hochberg(ps), strict=True):
        out[n] = out[n].model_copy(update={"p_holm": ph, "p_bh": pb})
    return out


def _scaled(x: float | None, k: float) -> float | None:
    return None if x is None else x * k


def _pair(a: str, b: str, profiles: dict[str, dict[str, float | None]]) -> WordingPair:
    both = [
        (x, y)
        for v in profiles[a]
        if (x := profiles[a].get(v)) is not None and (y := profiles[b].get(v)) is not None
    ]
    xs, ys = [x for x, _ in both], [y for _, y in both]
    rho = tau = None
    if len(both) >= 3 and len(set(xs)) > 1 and len(set(ys)) > 1:
        rho = _none_if_nan(spearman(xs, ys)[0])
        tau = _kendall(xs, ys)
    return WordingPair(a=a, b=b, spearman=rho, kendall=tau, n_values=len(both))


def _decomposition(key: tuple[str, str], obs: Sequence[_Obs]) -> WordingDecomposition:
    rows = [
        {
            "wording": o.wording,
            "order": o.order,
            "persona": o.persona,
            "item": f"{o.item.probe_id}:{dim_name(o.item.value)}",
        }
        for o in obs
    ]
    dec = variance_decomposition(rows, [o.item.score for o in obs], FACTORS)
    return WordingDecomposition(
        model=key[0],
        modality=key[1],
        n_scores=len(obs),
        shares=dec.shares,
        residual=dec.residual,
        balanced=dec.balanced,
    )


def summarise_wordings(
    lines: Sequence[ScoreLine],
    *,
    reducer: Reducer = "mean",
    repeats: int = 1,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
) -> WordingsSummary | None:
    """The ``wordings`` block of a run's summary; None when no line was parsed."""
    obs = _observations(lines, reducer)
    if not obs:
        return None
    wordings = list(dict.fromkeys(o.wording for o in obs))
    by_group: dict[tuple[str, str, str], list[_Obs]] = defaultdict(list)
    by_model: dict[tuple[str, str], list[_Obs]] = defaultdict(list)
    for o in obs:
        by_group[(o.model, o.persona, o.modality)].append(o)
        by_model[(o.model, o.modality)].append(o)
    return WordingsSummary(
        wordings=wordings,
        repeats=repeats,
        reducer=reducer,
        groups=[_group(k, g, wordings, n_boot=n_boot, ci=ci, seed=seed) for k, g in sorted(by_group.items())],
        decomposition=[_decomposition(k, g) for k, g in sorted(by_model.items())],
    )
