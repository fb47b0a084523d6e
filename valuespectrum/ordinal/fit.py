"""Frequentist and Bayesian fits of the cumulative-logit model.

- ``fit_mle(data, backend="statsmodels" | "scipy")``: maximum likelihood with Wald standard
  errors; item effects are fixed and sum to zero within each value.
- ``fit_bayes(data)``: the posterior mode (MAP) with a Laplace approximation (a Gaussian with
  the inverse Hessian as covariance). Priors: ``beta ~ N(0, coef_sd^2)`` for cells and
  covariates, ``u_item ~ N(0, item_sd^2)`` with ``item_sd`` fixed (a joint mode over a
  hierarchical scale collapses it to zero, so it is not estimated), cut-points ``N(0, cut_sd^2)``.
  Posterior means and 95% intervals are those of the Gaussian.
- ``fit_bayes(data, method="mcmc")``: the same posterior sampled in full by Hamiltonian Monte
  Carlo (``ordinal.sample``: 4 chains started at the mode); means, sds, 95% percentile
  intervals and P(contrast < 0) are read from the draws, with R-hat and ESS reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from valuespectrum.errors import ConfigError, require
from valuespectrum.ordinal.data import Design, OrdinalData, build_design
from valuespectrum.ordinal.likelihood import Array, Problem, find_mode

if TYPE_CHECKING:
    from valuespectrum.ordinal.sample import Samples

Method = Literal["mle-scipy", "mle-statsmodels", "laplace", "mcmc"]


@dataclass
class RawFit:
    """Estimates of every design column and cut-point, with their joint covariance."""

    coef: Array
    cuts: Array
    cov: Array
    """Covariance of ``(coef, cuts)``."""
    loglik: float
    converged: bool
    message: str

    def se(self) -> Array:
        return np.sqrt(np.maximum(np.diag(self.cov), 0.0))


@dataclass
class OrdinalFit:
    method: Method
    design: Design
    raw: RawFit
    n: int
    n_categories: int
    scale_min: int
    priors: dict[str, float] | None = None
    notes: list[str] = field(default_factory=list)
    samples: Samples | None = None
    """Posterior draws (method ``mcmc``)."""

    @property
    def bayesian(self) -> bool:
        return self.method in ("laplace", "mcmc")

    @property
    def coef(self) -> Array:
        return self.raw.coef

    @property
    def cuts(self) -> Array:
        return self.raw.cuts

    def linear(self, weights: Array) -> tuple[float, float]:
        """Mean and sd of ``weights @ coef`` (weights over the design columns)."""
        k = len(self.coef)
        if self.samples is not None:
            xs = self.samples.flat[:, :k] @ weights
            return float(xs.mean()), float(xs.std(ddof=1))
        cov = self.raw.cov[:k, :k]
        var = float(weights @ cov @ weights)
        return float(weights @ self.coef), float(np.sqrt(max(var, 0.0)))

    def linear_draws(self, weights: Array) -> Array | None:
        """Posterior draws of ``weights @ coef`` (None without samples)."""
        if self.samples is None:
            return None
        return self.samples.flat[:, : len(self.coef)] @ weights

    def describe(self) -> dict[str, Any]:
        extra = {"sampling": self.samples.diagnostics()} if self.samples is not None else {}
        return {
            **extra,
            "method": self.method,
            "n_ratings": self.n,
            "loglik": self.raw.loglik,
            "converged": self.raw.converged,
            "message": self.raw.message,
            "priors": self.priors,
            "notes": [*self.design.notes, *self.notes],
            "cut_points": [float(t) for t in self.cuts],
            "cut_point_se": [float(s) for s in self.raw.se()[len(self.coef) :]],
        }


def fit_arrays_mle(X: Array, y: np.ndarray, n_categories: int) -> RawFit:
    """Maximum likelihood by our own optimiser (no prior)."""
    m = find_mode(Problem(np.asarray(X, float), np.asarray(y, np.int64), n_categories))
    return RawFit(m.theta, m.tau, m.cov, m.loglik, m.converged, m.message)


def fit_arrays_laplace(
    X: Array, y: np.ndarray, n_categories: int, coef_sd: Array | float, cut_sd: float
) -> RawFit:
    """Posterior mode and Laplace covariance under Gaussian priors."""
    X = np.asarray(X, float)
    sd = np.broadcast_to(np.asarray(coef_sd, float), (X.shape[1],)).copy()
    m = find_mode(Problem(X, np.asarray(y, np.int64), n_categories, sd, cut_sd))
    return RawFit(m.theta, m.tau, m.cov, m.loglik, m.converged, m.message)


def fit_arrays_statsmodels(X: Array, y: np.ndarray, n_categories: int, start: RawFit | None = None) -> RawFit:
    """Maximum likelihood by statsmodels' ``OrderedModel`` (logit link).

    ``start``: begin at this optimum (statsmodels then checks it and supplies its own
    covariance); from its default start, statsmodels' numerical derivatives take about a
    minute for 100 parameters on 2 cores.
    """
    require("statsmodels", extra="ordinal", feature="the statsmodels ordinal fit")
    import warnings

    from statsmodels.miscmodels.ordinal_model import OrderedModel

    y = np.asarray(y, np.int64)
    # statsmodels codes the categories it sees; an unobserved category would shift the cuts
    if len(np.unique(y)) != n_categories:
        raise ConfigError(
            f"ordinal: statsmodels needs every category observed; only {len(np.unique(y))} of "
            f"{n_categories} occur (use the scipy backend)"
        )
    p = X.shape[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = OrderedModel(y, np.asarray(X, float), distr="logit")
        kw: dict[str, Any] = {}
        if start is not None:
            kw["start_params"] = np.concatenate([start.coef, start.cuts[:1], np.log(np.diff(start.cuts))])
        try:
            res = model.fit(method="bfgs", disp=False, maxiter=5000, gtol=1e-8, **kw)
            cov_free = np.asarray(res.cov_params(), float)
        except (ValueError, np.linalg.LinAlgError) as exc:
            raise ConfigError(f"ordinal: statsmodels could not fit ({exc})") from exc
    params = np.asarray(res.params, float)
    tau = np.asarray(model.transform_threshold_params(params), float)[1:-1]
    z = params[p:]
    J = np.zeros((p + len(z), p + len(z)))
    J[:p, :p] = np.eye(p)
    for j in range(len(z)):
        J[p + j, p] = 1.0
        for i in range(1, j + 1):
            J[p + j, p + i] = np.exp(z[i])
    cov = J @ cov_free @ J.T
    converged = bool(res.mle_retvals.get("converged", True)) and bool(np.all(np.isfinite(cov)))
    how = "from the scipy optimum" if start is not None else "from its default start"
    return RawFit(params[:p], tau, cov, float(res.llf), converged, f"statsmodels OrderedModel (bfgs {how})")


def _expand(raw: RawFit, C: Array) -> RawFit:
    """Free parameters -> every design column: ``beta = C @ free``."""
    k = C.shape[1]
    n_cut = len(raw.cuts)
    J = np.zeros((C.shape[0] + n_cut, k + n_cut))
    J[: C.shape[0], :k] = C
    J[C.shape[0] :, k:] = np.eye(n_cut)
    return RawFit(C @ raw.coef, raw.cuts, J @ raw.cov @ J.T, raw.loglik, raw.converged, raw.message)


def fit_mle(
    data: OrdinalData, *, backend: Literal["statsmodels", "scipy"] = "statsmodels", item_effects: bool = True
) -> OrdinalFit:
    design = build_design(data, item_effects=item_effects)
    Xf = design.X @ design.constraint
    y = data.codes()
    # A category nobody used has no finite maximum-likelihood cut-point: merge it away.
    seen = np.unique(y)
    notes = []
    if len(seen) < data.n_categories:
        unused = sorted(set(range(data.n_categories)) - set(seen.tolist()))
        notes.append(
            f"ratings {[data.scale_min + c for c in unused]} never occur; the maximum-likelihood fit "
            f"has cut-points between the {len(seen)} ratings used only"
        )
        y = np.searchsorted(seen, y)
    if backend not in ("statsmodels", "scipy"):
        raise ConfigError(f"ordinal: unknown MLE backend {backend!r}; use 'statsmodels' or 'scipy'")
    raw = fit_arrays_mle(Xf, y, len(seen))
    method: Method = "mle-scipy"
    if backend == "statsmodels":
        if not raw.converged:
            notes.append(f"statsmodels not run: {raw.message}")
        else:
            raw = fit_arrays_statsmodels(Xf, y, len(seen), start=raw)
            method = "mle-statsmodels"
    return OrdinalFit(
        method, design, _expand(raw, design.constraint), len(y), len(seen), data.scale_min, notes=notes
    )


def fit_bayes(
    data: OrdinalData,
    *,
    method: Literal["laplace", "mcmc"] = "laplace",
    coef_sd: float = 1.5,
    item_sd: float = 1.0,
    cut_sd: float = 5.0,
    item_effects: bool = True,
    chains: int = 4,
    warmup: int = 500,
    draws: int = 1000,
    seed: int = 0,
) -> OrdinalFit:
    if method not in ("laplace", "mcmc"):
        raise ConfigError(f"ordinal: unknown Bayesian method {method!r}; use 'laplace' or 'mcmc'")
    for name, v in (("coef_sd", coef_sd), ("item_sd", item_sd), ("cut_sd", cut_sd)):
        if not v > 0:
            raise ConfigError(f"ordinal: prior {name} must be > 0, got {v}")
    design = build_design(data, item_effects=item_effects)
    sd = np.array([item_sd if k == "item" else coef_sd for k in design.kinds])
    priors = {"coef_sd": coef_sd, "item_sd": item_sd, "cut_sd": cut_sd}
    if method == "laplace":
        raw = fit_arrays_laplace(design.X, data.codes(), data.n_categories, sd, cut_sd)
        return OrdinalFit(
            "laplace", design, raw, len(data.rows), data.n_categories, data.scale_min, priors=priors
        )
    from valuespectrum.ordinal.sample import sample_posterior

    problem = Problem(
        np.asarray(design.X, float), np.asarray(data.codes(), np.int64), data.n_categories, sd, cut_sd
    )
    mode = find_mode(problem)
    samples = sample_posterior(problem, mode, chains=chains, warmup=warmup, draws=draws, seed=seed)
    flat = samples.flat
    k = len(mode.theta)
    cov = np.cov(flat, rowvar=False)
    raw = RawFit(
        flat[:, :k].mean(axis=0), flat[:, k:].mean(axis=0), cov, mode.loglik, mode.converged, mode.message
    )
    notes = []
    diag = samples.diagnostics()
    if diag["max_rhat"] > 1.05 or diag["divergences"]:
        notes.append(
            f"sampling may not have converged: max R-hat {diag['max_rhat']:.3f}, "
            f"{diag['divergences']} divergent transitions; raise warmup/draws"
        )
    return OrdinalFit(
        "mcmc",
        design,
        raw,
        len(data.rows),
        data.n_categories,
        data.scale_min,
        priors=priors,
        notes=notes,
        samples=samples,
    )
