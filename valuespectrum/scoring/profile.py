"""Aggregate item scores into a value profile, and compare profiles.

Formulas (each unit-tested against a hand-computed example):

- value score = mean of the value's item scores (None when it has none);
- bootstrap CI: resample *probes* with replacement (all values together, so values that
  share probes stay paired), recompute each value's mean, take percentiles;
- MRAT = mean raw rating over every answered Likert probe that has a kept key (each answer
  once, before reverse keying): with a weight rule (``weight_sign``, ``weight_threshold``)
  that is the mean rating of the items kept, as Value Portrait's published headline table
  centres; ``centre_on="answered"`` centres on every answered Likert item instead (the PVQ
  convention, the same when every item is keyed); centred score = value score - MRAT
  (rating-scale profiles only);
- higher-order score = mean of its member values' scores, with the membership of
  :data:`valuespectrum.values.HIGHER_ORDER` (Hedonism counted under Openness to Change only,
  the usual PVQ convention); None unless every member has a score;
- like-rate (Value-Spectrum) = 100 x mean endorsement over the value's yes/no items, i.e. the
  share of "yes" when items are keyed +1 (the Value-Spectrum case; "unsure" counts one half);
- spread = population standard deviation (ddof=0) across the values that have a score. It is
  taken over like-rates for yes/no profiles, so it is in the 0-100 units of the Value-Spectrum
  table, and over value scores otherwise. The paper reports "the standard deviation across
  values" without stating the ddof; ddof=0 treats the 10 values as the whole population.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from valuespectrum.probes.schema import Probe
from valuespectrum.scoring.items import ItemScore, WeightSign, score_item
from valuespectrum.scoring.parse import ParsedAnswer, tally
from valuespectrum.scoring.stats import percentile_interval, resample_counts, spearman
from valuespectrum.value_systems import Dim, dim_name, system_of_probes
from valuespectrum.values import CIRCUMPLEX, HIGHER_ORDER, HigherOrder, Value

SCHWARTZ_DIMS: tuple[Dim, ...] = CIRCUMPLEX

ProfileScale = Literal["rating", "endorse", "choice", "mixed", "none"]


class ValueProfile(BaseModel):
    """A model's value profile from one set of answers."""

    scale: ProfileScale
    """Kind of the item scores: one kind, ``mixed`` when several, ``none`` when no scores."""
    scores: dict[Dim, float | None]
    """Per-value mean of item scores (None when the value has no items), every dimension of
    the run's value system in its order (Schwartz's ten in circumplex order by default)."""
    n_items: dict[Dim, int]
    ci_low: dict[Dim, float | None]
    """Bootstrap percentile interval of each score (None with fewer than 2 items)."""
    ci_high: dict[Dim, float | None]
    mrat: float | None
    """Mean raw rating over all answered Likert probes (each probe counted once)."""
    centred: dict[Dim, float | None]
    """score - MRAT, for rating-scale profiles only."""
    higher_order: dict[HigherOrder, float | None]
    """Schwartz's four higher-order values; empty for other value systems."""
    spread: float | None
    """Population SD (ddof=0) across values: of like-rates for yes/no profiles, else of scores."""
    like_rate: dict[Dim, float | None]
    """100 x mean endorsement over yes/no items (share of yes, 0-100); None without such items."""
    n_parsed: int
    n_unparsed: int
    n_failed: int
    readout: Literal["argmax", "expected"] = Field(default="argmax", exclude_if=lambda v: v == "argmax")
    """How the answers were read: the most likely option, or the option distribution's
    expectation (then analyses compare ``centred`` scores; see ``scoring.steerability.measure_of``)."""

    @property
    def n_answers(self) -> int:
        return self.n_parsed + self.n_unparsed + self.n_failed

    @property
    def parse_rate(self) -> float | None:
        """Share of non-failed answers that parsed."""
        asked = self.n_parsed + self.n_unparsed
        return self.n_parsed / asked if asked else None


class Comparison(BaseModel):
    """Agreement of two profiles over the values both have."""

    rho: float | None
    """Spearman rank correlation (None with fewer than 3 common values or a constant side)."""
    p_value: float | None
    n: int
    """Number of values scored in both profiles."""
    mean_abs_diff: float | None
    """Mean |a - b| over common values; meaningful only when both are on the same scale."""
    values: list[Dim]


def _mean_or_none(xs: Sequence[float]) -> float | None:
    return float(np.mean(xs)) if len(xs) else None


def build_profile(
    item_scores: Sequence[ItemScore],
    *,
    n_parsed: int,
    n_unparsed: int,
    n_failed: int,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    centre_ratings: Sequence[float] | None = None,
    dims: Sequence[Dim] = SCHWARTZ_DIMS,
) -> ValueProfile:
    """Aggregate item scores (from :func:`score_item`) into a profile.

    The counts of parsed, unparsed and failed answers are passed through so reports always
    show what was left out. ``centre_ratings`` (one raw rating per answer) replaces the kept
    items' ratings as the MRAT base. ``dims``: the value system's dimensions, in order
    (higher-order values are computed for Schwartz's ten only).
    """
    dims = tuple(dims)
    unknown = sorted({dim_name(s.value) for s in item_scores} - {dim_name(d) for d in dims})
    if unknown:
        raise ValueError(f"item scores name values outside the profile's dimensions: {unknown}")
    if min(n_parsed, n_unparsed, n_failed) < 0:
        raise ValueError("answer counts must be >= 0")
    kinds = {s.kind for s in item_scores}
    scale: ProfileScale = "none" if not kinds else (kinds.pop() if len(kinds) == 1 else "mixed")  # type: ignore[assignment]

    by_value: dict[Dim, list[float]] = {v: [] for v in dims}
    endorse: dict[Dim, list[float]] = {v: [] for v in dims}
    raw_by_answer: dict[tuple[str, str], float] = {}
    for s in item_scores:
        by_value[s.value].append(s.score)
        if s.kind == "endorse":
            endorse[s.value].append(s.score)
        if s.kind == "rating" and s.raw is not None:
            raw_by_answer.setdefault((s.probe_id, s.answer_id), s.raw)

    scores = {v: _mean_or_none(by_value[v]) for v in dims}
    n_items = {v: len(by_value[v]) for v in dims}
    ci_low, ci_high = _bootstrap(item_scores, n_items, n_boot=n_boot, ci=ci, seed=seed)
    mrat = _mean_or_none(list(raw_by_answer.values()) if centre_ratings is None else list(centre_ratings))
    centred: dict[Dim, float | None] = {
        v: (sc - mrat if sc is not None and mrat is not None and scale == "rating" else None)
        for v, sc in scores.items()
    }
    higher: dict[HigherOrder, float | None] = {}
    if set(dims) == set(Value):
        for h, members in HIGHER_ORDER.items():
            member_scores = [x for m in members if (x := scores[m]) is not None]
            higher[h] = float(np.mean(member_scores)) if len(member_scores) == len(members) else None
    like_rate = {v: (100.0 * float(np.mean(endorse[v])) if endorse[v] else None) for v in dims}
    basis = like_rate if scale == "endorse" else scores
    present = [x for x in basis.values() if x is not None]
    spread = float(np.std(present, ddof=0)) if len(present) >= 2 else None
    return ValueProfile(
        scale=scale,
        scores=scores,
        n_items=n_items,
        ci_low=ci_low,
        ci_high=ci_high,
        mrat=mrat,
        centred=centred,
        higher_order=higher,
        spread=spread,
        like_rate=like_rate,
        n_parsed=n_parsed,
        n_unparsed=n_unparsed,
        n_failed=n_failed,
    )


def _bootstrap(
    item_scores: Sequence[ItemScore], n_items: Mapping[Dim, int], *, n_boot: int, ci: float, seed: int
) -> tuple[dict[Dim, float | None], dict[Dim, float | None]]:
    """Per-value percentile CIs from resampling probes; one matrix product for all resamples."""
    low: dict[Dim, float | None] = {v: None for v in n_items}
    high: dict[Dim, float | None] = {v: None for v in n_items}
    if not item_scores or n_boot < 1:
        return low, high
    probes = list(dict.fromkeys(s.probe_id for s in item_scores))
    row = {p: i for i, p in enumerate(probes)}
    col = {v: j for j, v in enumerate(n_items)}
    sums = np.zeros((len(probes), len(col)))
    counts = np.zeros((len(probes), len(col)))
    for s in item_scores:
        sums[row[s.probe_id], col[s.value]] += s.score
        counts[row[s.probe_id], col[s.value]] += 1
    draws = resample_counts(len(probes), n_boot, seed)  # (n_boot, n_probes)
    boot_sums = draws @ sums
    boot_counts = draws @ counts
    with np.errstate(invalid="ignore", divide="ignore"):
        boot_means = boot_sums / boot_counts  # NaN where a resample drew no item of the value
    for v, j in col.items():
        if n_items[v] >= 2:
            lo, hi = percentile_interval(boot_means[:, j], ci)
            low[v], high[v] = lo, hi
    return low, high


def compare_profiles(a: Mapping[Any, float | None], b: Mapping[Any, float | None]) -> Comparison:
    """Spearman's rho (ties averaged), its p-value, and mean |a - b| over the common values.

    Pass ``profile.scores`` (or ``like_rate``/``centred``), or a reference's ``scores``. The
    values are taken in circumplex order when both sides are Schwartz's ten, else in ``a``'s.
    """
    order: list[Dim] = list(Value) if all(isinstance(k, Value) for k in (*a, *b)) else list(a)
    common = [v for v in order if a.get(v) is not None and b.get(v) is not None]
    xa = [float(a[v]) for v in common]  # type: ignore[arg-type]
    xb = [float(b[v]) for v in common]  # type: ignore[arg-type]
    rho: float | None = None
    p: float | None = None
    if len(common) >= 3:
        r, pv = spearman(xa, xb)
        if not np.isnan(r):
            rho, p = r, (None if np.isnan(pv) else pv)
    mad = float(np.mean(np.abs(np.subtract(xa, xb)))) if common else None
    return Comparison(rho=rho, p_value=p, n=len(common), mean_abs_diff=mad, values=common)


def profile_from_answers(
    answers: Sequence[tuple[Probe, ParsedAnswer]],
    *,
    weight_threshold: float = 0.0,
    weight_sign: WeightSign = "both",
    centre_on: Literal["kept", "answered"] = "kept",
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    dims: Sequence[Dim] | None = None,
) -> ValueProfile:
    """Score ``(probe, parsed answer)`` pairs and build the profile, counting every outcome.

    ``centre_on``: MRAT over the items with a kept key (``kept``) or over every answered
    Likert item (``answered``).
    """
    counts = tally([a for _, a in answers])
    items = [
        s
        for probe, a in answers
        for s in score_item(probe, a, weight_threshold=weight_threshold, weight_sign=weight_sign)
    ]
    ratings = None
    if centre_on == "answered":
        ratings = [
            float(a.value)
            for probe, a in answers
            if probe.format.kind == "likert" and a.status == "parsed" and isinstance(a.value, int | float)
        ]
    elif centre_on != "kept":
        raise ValueError(f"centre_on must be 'kept' or 'answered', got {centre_on!r}")
    return build_profile(
        items,
        n_parsed=counts["parsed"],
        n_unparsed=counts["unparsed"],
        n_failed=counts["error"],
        n_boot=n_boot,
        ci=ci,
        seed=seed,
        centre_ratings=ratings,
        dims=system_of_probes([p for p, _ in answers]).dimensions if dims is None else dims,
    )
