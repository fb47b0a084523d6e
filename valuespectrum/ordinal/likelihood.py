"""The cumulative-logit (proportional-odds) likelihood and its optimiser.

Model: ``P(y <= k) = logistic(tau_k - eta)`` with ``eta = X @ theta`` and ordered cut-points
``tau_0 < ... < tau_{K-2}``; a larger ``eta`` means higher categories. The optimiser works on
unconstrained cut-points (``tau_0``, then log gaps) so the order always holds; the mode is a
mode in the natural parameters (no Jacobian term), and the curvature is taken there, so a
Laplace approximation under a weak prior reproduces the maximum-likelihood fit and its
standard errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import expit, log_expit

Array = NDArray[np.float64]

#: A coefficient or cut-point beyond this (in logits) means the maximum is at infinity.
DIVERGED = 25.0


@dataclass(frozen=True)
class Problem:
    """What one fit needs: a design, category codes ``0..K-1`` and optional Gaussian priors."""

    X: Array
    y: NDArray[np.int64]
    n_categories: int
    coef_prior_sd: Array | None = None
    """Prior sd per column of X (None: no prior, i.e. maximum likelihood)."""
    cut_prior_sd: float | None = None

    def __post_init__(self) -> None:
        if self.n_categories < 2:
            raise ValueError(f"an ordinal model needs at least 2 categories, got {self.n_categories}")
        if self.X.ndim != 2 or self.X.shape[0] != self.y.shape[0]:
            raise ValueError(f"design has shape {self.X.shape} but there are {self.y.shape[0]} ratings")
        if self.y.size and (self.y.min() < 0 or self.y.max() >= self.n_categories):
            raise ValueError(f"category codes must lie in 0..{self.n_categories - 1}")

    @property
    def n_coef(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_cuts(self) -> int:
        return self.n_categories - 1


def _bounds(p: Problem, theta: Array, tau: Array) -> tuple[Array, Array]:
    eta = p.X @ theta
    ext = np.concatenate([[-np.inf], tau, [np.inf]])
    return ext[p.y + 1] - eta, ext[p.y] - eta  # a = upper bound, b = lower bound


def loglik_and_grad(p: Problem, theta: Array, tau: Array) -> tuple[float, Array, Array]:
    """Log-likelihood and its gradient with respect to ``theta`` and ``tau``.

    ``log(s(a) - s(b)) = log s(a) + log s(-b) + log(1 - e^(b-a))``, stable in both tails.
    """
    a, b = _bounds(p, theta, tau)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        d = a - b
        ll = log_expit(a) + log_expit(-b) + np.log(-np.expm1(-d))
        inv = 1.0 / np.expm1(d)  # 0 where a or b is infinite
        ga = expit(-a) + inv
        gb = -expit(b) - inv
    g_theta = p.X.T @ (-(ga + gb))
    g_tau = np.zeros(p.n_cuts)
    upper = p.y < p.n_cuts  # rows whose upper bound is a finite cut-point
    np.add.at(g_tau, p.y[upper], ga[upper])
    lower = p.y > 0
    np.add.at(g_tau, p.y[lower] - 1, gb[lower])
    return float(ll.sum()), g_theta, g_tau


def category_probs(X: Array, theta: Array, tau: Array) -> Array:
    """Probability of each category for each row (rows x K)."""
    eta = X @ theta
    cum = expit(tau[None, :] - eta[:, None])
    cum = np.concatenate([np.zeros((len(eta), 1)), cum, np.ones((len(eta), 1))], axis=1)
    return np.diff(cum, axis=1)


def _neg_log_post(p: Problem, theta: Array, tau: Array) -> tuple[float, Array, Array]:
    ll, gt, gc = loglik_and_grad(p, theta, tau)
    f, gt, gc = -ll, -gt, -gc
    if p.coef_prior_sd is not None:
        prec = 1.0 / p.coef_prior_sd**2
        f += 0.5 * float(np.sum(prec * theta**2))
        gt = gt + prec * theta
    if p.cut_prior_sd is not None:
        prec_c = 1.0 / p.cut_prior_sd**2
        f += 0.5 * prec_c * float(np.sum(tau**2))
        gc = gc + prec_c * tau
    return f, gt, gc


def cuts_from_free(z: Array) -> Array:
    return np.cumsum(np.concatenate([z[:1], np.exp(z[1:])]))


def _free_from_cuts(tau: Array) -> Array:
    return np.concatenate([tau[:1], np.log(np.diff(tau))])


@dataclass(frozen=True)
class Mode:
    """A maximum of the (penalised) likelihood with its curvature."""

    theta: Array
    tau: Array
    cov: Array
    """Inverse Hessian of the negative log posterior in ``(theta, tau)``, size (p + K-1)^2."""
    loglik: float
    converged: bool
    message: str


def _initial_cuts(p: Problem) -> Array:
    counts = np.bincount(p.y, minlength=p.n_categories).astype(float) + 0.5
    cum = np.cumsum(counts)[:-1] / counts.sum()
    tau = np.log(cum / (1 - cum))
    return np.maximum.accumulate(tau + np.arange(p.n_cuts) * 1e-3)


def find_mode(p: Problem) -> Mode:
    """Maximise the log posterior (log-likelihood when no prior is set)."""
    n_t = p.n_coef

    def fun(x: Array) -> tuple[float, Array]:
        theta, z = x[:n_t], x[n_t:]
        tau = cuts_from_free(z)
        f, gt, gc = _neg_log_post(p, theta, tau)
        # d tau_j / d z_0 = 1; d tau_j / d z_i = exp(z_i) for 1 <= i <= j
        rev = np.cumsum(gc[::-1])[::-1]
        gz = rev * np.concatenate([[1.0], np.exp(z[1:])])
        return f, np.concatenate([gt, gz])

    x0 = np.concatenate([np.zeros(n_t), _free_from_cuts(_initial_cuts(p))])
    # Bounds past DIVERGED stop a search for a maximum at infinity (separation) early.
    lim = DIVERGED + 5.0
    bounds = [(-lim, lim)] * (n_t + 1) + [(-30.0, float(np.log(2 * lim)))] * (p.n_cuts - 1)
    res = minimize(
        fun,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-10},
    )
    theta, tau = res.x[:n_t], cuts_from_free(res.x[n_t:])
    theta, tau = _newton_polish(p, theta, tau)
    hess = hessian(p, theta, tau)
    try:
        cov = np.linalg.inv(hess)
        ok_cov = bool(np.all(np.isfinite(cov)) and np.all(np.diag(cov) > 0))
    except np.linalg.LinAlgError:
        cov, ok_cov = np.full_like(hess, np.nan), False
    ll = loglik_and_grad(p, theta, tau)[0]
    diverged = bool(np.max(np.abs(np.concatenate([theta, tau])), initial=0.0) > DIVERGED)
    converged = bool(res.success or "ABNORMAL" in str(res.message)) and ok_cov and not diverged
    msg = str(res.message)
    if diverged:
        msg = (
            f"estimates diverge (|parameter| > {DIVERGED:g}): separation, some cell's ratings all lie at one "
            "end; no finite maximum exists (the Bayesian fit stays finite)"
        )
    elif not ok_cov:
        msg = "the Hessian is singular: some parameters are not identified"
    return Mode(theta, tau, np.asarray(cov, dtype=np.float64), ll, converged, msg)


def _grad_natural(p: Problem, theta: Array, tau: Array) -> Array:
    _, gt, gc = _neg_log_post(p, theta, tau)
    return np.concatenate([gt, gc])


def hessian(p: Problem, theta: Array, tau: Array, step: float = 1e-5) -> Array:
    """Hessian of the negative log posterior in ``(theta, tau)`` by central differences of the gradient."""
    x = np.concatenate([theta, tau])
    n_t, k = p.n_coef, len(x)
    h = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = step
        gp = _grad_natural(p, (x + e)[:n_t], (x + e)[n_t:])
        gm = _grad_natural(p, (x - e)[:n_t], (x - e)[n_t:])
        h[:, j] = (gp - gm) / (2 * step)
    return 0.5 * (h + h.T)


def _newton_polish(p: Problem, theta: Array, tau: Array, steps: int = 3) -> tuple[Array, Array]:
    """A few Newton steps in the natural parameters: L-BFGS stops short of 1e-6 precision."""
    n_t = p.n_coef
    x = np.concatenate([theta, tau])
    f0 = _neg_log_post(p, theta, tau)[0]
    for _ in range(steps):
        g = _grad_natural(p, x[:n_t], x[n_t:])
        try:
            dx = np.linalg.solve(hessian(p, x[:n_t], x[n_t:]), g)
        except np.linalg.LinAlgError:
            break
        cand = x - dx
        if np.any(np.diff(cand[n_t:]) <= 0):
            break
        f1 = _neg_log_post(p, cand[:n_t], cand[n_t:])[0]
        if not np.isfinite(f1) or f1 > f0 + 1e-9:
            break
        x, f0 = cand, f1
        if np.max(np.abs(dx)) < 1e-12:
            break
    return x[:n_t], x[n_t:]
