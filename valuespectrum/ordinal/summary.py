"""What a fit says per unit x value: estimates, the centred variant, contrasts and a PPC.

All quantities here are linear in the coefficients, so they are Gaussian under both the
Wald (MLE) and the Laplace (Bayesian) approximation: mean, sd and a 95% interval
``mean +- 1.96 sd``; for the Bayesian fit also ``P(contrast < 0) = Phi(-mean / sd)``.

The centred variant subtracts each unit's mean effect over its values (the ordinal
analogue of MRAT centring): it removes a unit's overall tendency to rate high.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from valuespectrum.ordinal.data import OrdinalData
from valuespectrum.ordinal.fit import OrdinalFit
from valuespectrum.ordinal.likelihood import Array, category_probs

Z95 = float(norm.ppf(0.975))


@dataclass(frozen=True)
class Estimate:
    mean: float
    sd: float
    draws: Array | None = None
    """Posterior draws (a sampled fit): intervals and P(< 0) come from them, not the Gaussian."""

    @property
    def low(self) -> float:
        if self.draws is not None:
            return float(np.percentile(self.draws, 2.5))
        return self.mean - Z95 * self.sd

    @property
    def high(self) -> float:
        if self.draws is not None:
            return float(np.percentile(self.draws, 97.5))
        return self.mean + Z95 * self.sd

    @property
    def p_below_zero(self) -> float:
        if self.draws is not None:
            return float(np.mean(self.draws < 0))
        if self.sd == 0:
            return float(self.mean < 0)
        return float(norm.cdf(-self.mean / self.sd))

    def as_dict(self, bayesian: bool) -> dict[str, float]:
        d = {"mean": self.mean, "sd": self.sd, "low": self.low, "high": self.high}
        if bayesian:
            d["p_below_zero"] = self.p_below_zero
        return d


@dataclass(frozen=True)
class ContrastSpec:
    """``mean over values of beta[a] - mean over values of beta[b]`` (b empty: against zero)."""

    name: str
    a: str
    b: str | None
    values: tuple[str, ...]
    centred: bool = False


def estimate(fit: OrdinalFit, weights: Array) -> Estimate:
    mean, sd = fit.linear(weights)
    return Estimate(mean, sd, fit.linear_draws(weights))


def _cell_weights(fit: OrdinalFit, unit: str, values: Sequence[str], centred: bool) -> Array:
    """Weights over the design columns for the mean effect of ``unit`` on ``values``."""
    d = fit.design
    w = np.zeros(len(d.names))
    rated = _rated_values(fit, unit)
    for v in values:
        w[d.cells.index((unit, v))] += 1.0 / len(values)
    if centred and rated:
        for v in rated:
            w[d.cells.index((unit, v))] -= 1.0 / len(rated)
    return w


def _rated_values(fit: OrdinalFit, unit: str) -> list[str]:
    d = fit.design
    used = np.abs(d.X).sum(axis=0) > 0
    return [v for j, (u, v) in enumerate(d.cells) if u == unit and used[j]]


def cell_estimate(fit: OrdinalFit, unit: str, value: str, *, centred: bool = False) -> Estimate:
    return estimate(fit, _cell_weights(fit, unit, [value], centred))


def contrast(fit: OrdinalFit, spec: ContrastSpec) -> Estimate:
    w = _cell_weights(fit, spec.a, spec.values, spec.centred)
    if spec.b is not None:
        w = w - _cell_weights(fit, spec.b, spec.values, spec.centred)
    return estimate(fit, w)


def default_contrasts(
    data: OrdinalData, groups: Mapping[str, Sequence[str]] | None = None
) -> list[ContrastSpec]:
    """Every pair of units, on each group of values whose members were all rated (raw and centred)."""
    present = set(data.values)
    chosen: dict[str, tuple[str, ...]] = {
        k: tuple(v) for k, v in (groups or {}).items() if v and set(v) <= present
    }
    out: list[ContrastSpec] = []
    for a, b in itertools.combinations(data.units, 2):
        for name, vals in chosen.items():
            for centred in (False, True):
                out.append(ContrastSpec(f"{a} - {b}: {name}", a, b, vals, centred))
    return out


def target_contrasts(
    data: OrdinalData, targets: Mapping[str, Sequence[str]], baseline: str | None = None
) -> list[ContrastSpec]:
    """Each unit's target values against the baseline unit, or against every other unit."""
    out: list[ContrastSpec] = []
    for unit, vals in targets.items():
        vals = tuple(v for v in vals if v in data.values)
        if unit not in data.units or not vals or unit == baseline:
            continue
        others = [baseline] if baseline in data.units else [u for u in data.units if u != unit]
        for other in others:
            for centred in (False, True):
                name = f"{unit} - {other}: target {'+'.join(vals)}"
                out.append(ContrastSpec(name, unit, other, vals, centred))
    return out


def posterior_predictive(
    fit: OrdinalFit, data: OrdinalData, *, draws: int = 1000, seed: int = 0
) -> list[dict[str, object]]:
    """Observed category shares per unit against shares in data replicated from the fit.

    Parameters are drawn from the fit's Gaussian (cut-points sorted in each draw), one
    replicate data set per draw; the interval is the 2.5-97.5% range of replicated shares.
    """
    rng = np.random.default_rng(seed)
    k = len(fit.coef)
    if fit.samples is not None:  # the posterior's own draws
        flat = fit.samples.flat
        sample = flat[rng.choice(len(flat), size=draws, replace=len(flat) < draws)]
    else:
        mean = np.concatenate([fit.coef, fit.cuts])
        sample = rng.multivariate_normal(mean, fit.raw.cov, size=draws, method="eigh")
    X = fit.design.X
    y = data.codes()
    units = np.array([r.unit for r in data.rows])
    K = fit.n_categories
    rep = np.zeros((draws, len(y)), dtype=np.int64)
    for s in range(draws):
        probs = category_probs(X, sample[s, :k], np.sort(sample[s, k:]))
        cum = np.cumsum(np.clip(probs, 0, None), axis=1)
        cum /= cum[:, -1:]
        rep[s] = (rng.random(len(y))[:, None] > cum).sum(axis=1)
    out: list[dict[str, object]] = []
    for unit in data.units:
        mask = units == unit
        obs = np.bincount(y[mask], minlength=K) / mask.sum()
        shares = np.stack([np.bincount(r[mask], minlength=K) / mask.sum() for r in rep])
        lo, hi = np.percentile(shares, [2.5, 97.5], axis=0)
        out.append(
            {
                "unit": unit,
                "n": int(mask.sum()),
                "categories": [fit.scale_min + c for c in range(K)],
                "observed": [float(x) for x in obs],
                "predicted": [float(x) for x in shares.mean(axis=0)],
                "low": [float(x) for x in lo],
                "high": [float(x) for x in hi],
                "outside": [int(c) + fit.scale_min for c in np.flatnonzero((obs < lo) | (obs > hi))],
            }
        )
    return out


def cells_table(fit: OrdinalFit, data: OrdinalData, *, centred: bool = False) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for unit in data.units:
        rated = set(_rated_values(fit, unit))
        for v in data.values:
            if v not in rated:
                continue
            e = cell_estimate(fit, unit, v, centred=centred)
            rows.append({"unit": unit, "value": v, **e.as_dict(fit.bayesian)})
    return rows


def covariates_table(fit: OrdinalFit) -> list[dict[str, object]]:
    d = fit.design
    out: list[dict[str, object]] = []
    for j, (name, kind) in enumerate(zip(d.names, d.kinds, strict=True)):
        if kind in ("order", "variant"):
            w = np.zeros(len(d.names))
            w[j] = 1.0
            out.append({"name": name, **estimate(fit, w).as_dict(fit.bayesian)})
    return out


def contrasts_table(fit: OrdinalFit, specs: Sequence[ContrastSpec]) -> list[dict[str, object]]:
    return [
        {
            "name": s.name,
            "a": s.a,
            "b": s.b,
            "values": list(s.values),
            "centred": s.centred,
            **contrast(fit, s).as_dict(fit.bayesian),
        }
        for s in specs
    ]
