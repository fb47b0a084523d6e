"""Full posterior sampling (HMC) of the cumulative-logit model against cases solved by hand."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_ordinal import LN_3_5, LOGIT_07, _exact_counts, _po_rows, two_groups
from valuespectrum.ordinal import ContrastSpec, OrdinalData, Rating, analyse, contrast, fit_bayes
from valuespectrum.ordinal.sample import ess, split_rhat


def test_hmc_matches_the_logistic_answer_and_the_laplace_fit() -> None:
    data = two_groups()
    spec = ContrastSpec("g1 - g0", "g1", "g0", ("v",))
    lap = fit_bayes(data, coef_sd=100.0, item_sd=100.0, cut_sd=100.0)
    mc = fit_bayes(data, method="mcmc", coef_sd=100.0, item_sd=100.0, cut_sd=100.0, draws=1000, seed=1)
    assert mc.samples is not None
    d = mc.samples.diagnostics()
    assert d["max_rhat"] < 1.05 and d["min_ess"] > 300 and d["divergences"] == 0
    assert 0.6 < d["acceptance"] < 0.98
    e_lap, e_mc = contrast(lap, spec), contrast(mc, spec)
    # the log odds ratio ln 3.5 = 1.2528, sd sqrt(1/70 + 1/30 + 1/40 + 1/60) = 0.2986 (weak prior)
    assert e_mc.mean == pytest.approx(LN_3_5, abs=0.05)
    assert e_mc.sd == pytest.approx(0.2986, rel=0.1) and e_mc.sd == pytest.approx(e_lap.sd, rel=0.1)
    assert e_mc.draws is not None and e_mc.low == pytest.approx(np.percentile(e_mc.draws, 2.5))
    assert e_mc.p_below_zero == pytest.approx(float(np.mean(e_mc.draws < 0)))
    assert e_mc.p_below_zero < 0.001
    # cells, item and cut-point trade off under the weak prior; cut - eta(g0) = logit(0.7) = 0.8473
    # (the linear predictor of a g0 rating) does not
    k = len(mc.coef)
    eta_g0 = mc.samples.flat[:, :k] @ mc.design.X[0]
    identified = mc.samples.flat[:, k] - eta_g0
    assert float(identified.mean()) == pytest.approx(LOGIT_07, abs=0.05)


def test_hmc_recovers_a_centred_shift_and_reports_diagnostics() -> None:
    tau = [-1.5, -0.5, 0.5, 1.5]
    rows: list[Rating] = []
    for v, b in {"Power": 0.8, "Tradition": -0.4}.items():
        for unit, shift in (("a", 0.0), ("b", 0.7)):
            rows += _po_rows(unit, v, f"{v}-1", _exact_counts(tau, b + shift, 400))
    data = OrdinalData(rows, 1, 5)
    _, bayes, summary = analyse(data, frequentist="scipy", bayes_method="mcmc", draws=200)
    assert bayes.method == "mcmc" and "posterior draws" in summary["interval"]
    sampling = summary["bayesian"]["sampling"]
    assert sampling["chains"] == 4 and sampling["max_rhat"] < 1.05
    for v in ("Power", "Tradition"):
        raw = contrast(bayes, ContrastSpec("b-a", "b", "a", (v,)))
        cen = contrast(bayes, ContrastSpec("b-a", "b", "a", (v,), centred=True))
        assert raw.mean == pytest.approx(0.7, abs=0.15) and raw.low < 0.7 < raw.high
        assert cen.mean == pytest.approx(0.0, abs=0.1)
    assert summary["bayesian"]["ppc"][0]["n"] == len(rows) // 2


def test_rhat_and_ess_on_known_chains() -> None:
    rng = np.random.default_rng(0)
    iid = rng.standard_normal((4, 1000, 1))
    assert split_rhat(iid)[0] == pytest.approx(1.0, abs=0.01)
    assert ess(iid)[0] == pytest.approx(4000, rel=0.15)
    stuck = np.concatenate([iid[:2], iid[2:] + 5.0])  # two chains elsewhere
    assert split_rhat(stuck)[0] > 2.0
    ar = np.zeros((4, 2000, 1))  # AR(1) with phi 0.9: ESS about n (1 - phi) / (1 + phi)
    for c in range(4):
        for t in range(1, 2000):
            ar[c, t, 0] = 0.9 * ar[c, t - 1, 0] + rng.standard_normal()
    assert ess(ar)[0] == pytest.approx(8000 * 0.1 / 1.9, rel=0.3)


def test_unknown_method_is_refused() -> None:
    from valuespectrum.errors import ConfigError

    with pytest.raises(ConfigError, match="use 'laplace' or 'mcmc'"):
        fit_bayes(two_groups(), method="nuts")  # type: ignore[arg-type]
