"""One ordinal comparison: both fits, contrasts, the PPC, ``ordinal.json``, a forest plot and a page.

Model (documented in README): ``P(y <= k) = logistic(tau_k - eta)`` with
``eta = sum_v s_iv * beta[unit, v] + u[item] + gamma * (+-1/2 by label order) + delta[variant]`` where
``s_iv`` is +1 for a value the item is keyed on and -1 for a reverse-keyed one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from valuespectrum.errors import ConfigError
from valuespectrum.ordinal.data import By, OrdinalData
from valuespectrum.ordinal.fit import OrdinalFit, fit_bayes, fit_mle
from valuespectrum.ordinal.summary import (
    cells_table,
    contrasts_table,
    covariates_table,
    default_contrasts,
    posterior_predictive,
    target_contrasts,
)

MODEL_TEXT = (
    "P(y <= k) = logistic(tau_k - eta); eta = sum over keyed values of sign * beta[unit, value] "
    "+ u[item] + gamma * (+1/2 reversed labels, -1/2 forward) + delta[variant]"
)
#: Units tried, in order, as the baseline of target contrasts when none is given.
BASELINE_NAMES: tuple[str, ...] = ("neutral", "none")


def schwartz_groups(values: Sequence[str]) -> dict[str, list[str]]:
    """Higher-order groups when every value is a Schwartz basic value name, else none."""
    from valuespectrum.values import CIRCUMPLEX, HIGHER_ORDER

    names = {v.value for v in CIRCUMPLEX}
    if not values or not set(values) <= names:
        return {}
    return {h.value: [v.value for v in members] for h, members in HIGHER_ORDER.items()}


@dataclass
class OrdinalResult:
    data: OrdinalData
    frequentist: OrdinalFit
    bayesian: OrdinalFit
    summary: dict[str, Any]
    files: list[Path]


def analyse(
    data: OrdinalData,
    *,
    groups: Mapping[str, Sequence[str]] | None = None,
    baseline: str | None = None,
    frequentist: Literal["statsmodels", "scipy"] = "statsmodels",
    item_effects: bool = True,
    draws: int = 1000,
    seed: int = 0,
    bayes_method: Literal["laplace", "mcmc"] = "laplace",
) -> tuple[OrdinalFit, OrdinalFit, dict[str, Any]]:
    """Fit both models and summarise them as the JSON-ready dict written to ``ordinal.json``."""
    if baseline is not None and baseline not in data.units:
        raise ConfigError(f"ordinal: baseline {baseline!r} is not a compared unit; units: {data.units}")
    if baseline is None:
        baseline = next((b for b in BASELINE_NAMES if b in data.units), None)
    groups = schwartz_groups(data.values) if groups is None else dict(groups)
    notes: list[str] = []
    try:
        mle = fit_mle(data, backend=frequentist, item_effects=item_effects)
    except ConfigError as exc:
        if frequentist != "statsmodels" or "statsmodels could not fit" not in str(exc):
            raise
        notes.append(f"{exc}; the scipy maximum-likelihood fit is shown")
        mle = fit_mle(data, backend="scipy", item_effects=item_effects)
    bayes = fit_bayes(data, item_effects=item_effects, method=bayes_method, seed=seed)
    per_value = {v: [v] for v in data.values}
    specs = default_contrasts(data, {**groups, **per_value})
    tspecs = target_contrasts(data, data.targets, baseline)

    def block(fit: OrdinalFit) -> dict[str, Any]:
        return {
            **fit.describe(),
            "cells": cells_table(fit, data),
            "centred": cells_table(fit, data, centred=True),
            "covariates": covariates_table(fit),
            "contrasts": contrasts_table(fit, specs),
            "target_contrasts": contrasts_table(fit, tspecs),
        }

    summary: dict[str, Any] = {
        "kind": "ordinal",
        "model": MODEL_TEXT,
        "scale": [data.scale_min, data.scale_max],
        "n_ratings": len(data.rows),
        "excluded": data.excluded,
        "units": data.units,
        "values": data.values,
        "n_items": len(data.items),
        "orders": data.orders,
        "variants": data.variants,
        "groups": groups,
        "targets": data.targets,
        "baseline": baseline,
        "interval": (
            "95%: mean +- 1.96 sd of the Gaussian (Wald for the MLE, Laplace for the posterior)"
            if bayes_method == "laplace"
            else "95%: Wald (mean +- 1.96 sd) for the MLE; 2.5-97.5% of the posterior draws (HMC)"
        ),
        "notes": notes,
        "frequentist": block(mle),
        "bayesian": {**block(bayes), "ppc": posterior_predictive(bayes, data, draws=draws, seed=seed)},
    }
    return mle, bayes, summary


def ordinal_compare(
    run_dirs: Sequence[Path],
    out_dir: Path,
    *,
    by: By = "auto",
    baseline: str | None = None,
    frequentist: Literal["statsmodels", "scipy"] = "statsmodels",
    item_effects: bool = True,
    seed: int = 0,
    bayes_method: Literal["laplace", "mcmc"] = "laplace",
) -> OrdinalResult:
    """Read scored runs, fit, and write ``ordinal.json``, the forest plot and ``ordinal.html``."""
    from valuespectrum.ordinal.plot import forest_plot
    from valuespectrum.runs.jsonl import write_json_atomic

    data = OrdinalData.from_runs(run_dirs, by=by)
    mle, bayes, summary = analyse(
        data,
        baseline=baseline,
        frequentist=frequentist,
        item_effects=item_effects,
        seed=seed,
        bayes_method=bayes_method,
    )
    summary["runs"] = [str(Path(d)) for d in run_dirs]
    summary["by"] = by
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fig = forest_plot(
        [
            (
                f"posterior ({'Laplace' if bayes_method == 'laplace' else 'HMC'})",
                summary["bayesian"]["cells"],
            ),
            ("posterior, centred per unit", summary["bayesian"]["centred"]),
        ],
        data.values,
        data.units,
        out_dir=out_dir,
    )
    summary["figure"] = [p.name for p in fig.files]
    path = out_dir / "ordinal.json"
    write_json_atomic(path, summary)
    html = out_dir / "ordinal.html"
    from valuespectrum.ordinal.page import ordinal_page

    html.write_text(ordinal_page(summary, fig), encoding="utf-8")
    return OrdinalResult(data, mle, bayes, summary, [path, html, *fig.files])
