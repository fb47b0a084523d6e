"""Cumulative-logit fits against hand-computed cases, and ``vspec compare --ordinal`` on mock runs."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from valuespectrum.backends.mock import MockBackend
from valuespectrum.errors import ConfigError
from valuespectrum.manifest import parse_manifest
from valuespectrum.ordinal import ContrastSpec, OrdinalData, Rating, analyse, contrast, fit_bayes, fit_mle
from valuespectrum.ordinal.fit import fit_arrays_laplace, fit_arrays_mle, fit_arrays_statsmodels
from valuespectrum.probes.bank import load_bank
from valuespectrum.runs.execute import execute_run
from valuespectrum.runs.score import score_run
from valuespectrum.types import ModelRequest

LOGIT_07 = math.log(0.7 / 0.3)  # 0.8473
LN_3_5 = math.log(3.5)  # 0.8473 - logit(0.4) = 1.2528


def two_category() -> tuple[np.ndarray, np.ndarray]:
    """Group 0: 70 low / 30 high; group 1: 40 low / 60 high."""
    x = np.r_[np.zeros(100), np.ones(100)][:, None]
    y = np.r_[np.zeros(70), np.ones(30), np.zeros(40), np.ones(60)].astype(np.int64)
    return x, y


def proportional_odds(n: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    """Category counts from tau = (-1, 1), beta = 0.5: shares s(-1)=0.2689, s(1)=0.7311 at x=0 and
    s(-1.5)=0.1824, s(0.5)=0.6225 at x=1, times n rows per group (rounded to whole rows)."""
    s = lambda t: 1 / (1 + math.exp(-t))  # noqa: E731
    xs: list[float] = []
    ys: list[int] = []
    for x, (c1, c2) in ((0.0, (s(-1), s(1))), (1.0, (s(-1.5), s(0.5)))):
        counts = [round(n * c1), round(n * (c2 - c1)), round(n * (1 - c2))]
        for k, c in enumerate(counts):
            xs += [x] * c
            ys += [k] * c
    return np.array(xs)[:, None], np.array(ys, dtype=np.int64)


@pytest.mark.parametrize("fit", [fit_arrays_mle, fit_arrays_statsmodels])
def test_two_categories_reduce_to_logistic_regression(fit) -> None:
    x, y = two_category()
    r = fit(x, y, 2)
    assert r.cuts[0] == pytest.approx(LOGIT_07, abs=1e-3)  # 0.8473
    assert r.coef[0] == pytest.approx(LN_3_5, abs=1e-3)  # 1.2528
    # logistic-regression standard error of the log odds ratio: sqrt(1/70 + 1/30 + 1/40 + 1/60)
    assert r.se()[0] == pytest.approx(math.sqrt(1 / 70 + 1 / 30 + 1 / 40 + 1 / 60), abs=1e-4)


def two_groups() -> OrdinalData:
    """:func:`two_category` as a data table: one item, groups g0 and g1, ratings 1 and 2."""
    rows = (
        [Rating("g0", "item", (("v", 1),), 1)] * 70
        + [Rating("g0", "item", (("v", 1),), 2)] * 30
        + [Rating("g1", "item", (("v", 1),), 1)] * 40
        + [Rating("g1", "item", (("v", 1),), 2)] * 60
    )
    return OrdinalData(rows, 1, 2)


def test_two_categories_through_the_data_table_both_fits() -> None:
    data = two_groups()
    spec = ContrastSpec("g1 - g0", "g1", "g0", ("v",))
    for backend in ("statsmodels", "scipy"):
        f = fit_mle(data, backend=backend)
        assert contrast(f, spec).mean == pytest.approx(LN_3_5, abs=1e-3)
        # cells sum to zero: beta = -+ ln(3.5)/2, cut-point logit(0.7) - ln(3.5)/2 = 0.2209
        assert f.cuts[0] == pytest.approx(LOGIT_07 - LN_3_5 / 2, abs=1e-3)
    b = fit_bayes(data, coef_sd=100.0, item_sd=100.0, cut_sd=100.0)
    assert contrast(b, spec).mean == pytest.approx(LN_3_5, abs=1e-3)


@pytest.mark.parametrize("fit", [fit_arrays_mle, fit_arrays_statsmodels])
def test_exact_proportional_odds_recovered(fit) -> None:
    x, y = proportional_odds()
    r = fit(x, y, 3)
    assert r.cuts == pytest.approx([-1.0, 1.0], abs=1e-2)
    assert r.coef[0] == pytest.approx(0.5, abs=1e-2)


def test_laplace_mean_equals_mle_under_weak_prior() -> None:
    x, y = proportional_odds()
    mle = fit_arrays_mle(x, y, 3)
    lap = fit_arrays_laplace(x, y, 3, coef_sd=100.0, cut_sd=100.0)
    assert lap.coef[0] == pytest.approx(mle.coef[0], abs=1e-4)
    assert lap.cuts == pytest.approx(mle.cuts, abs=1e-4)
    # the 95% interval is 2 * 1.96 SE wide, SE from the MLE's curvature
    assert 2 * 1.959964 * lap.se()[0] == pytest.approx(2 * 1.959964 * mle.se()[0], rel=1e-3)
    # a strong prior shrinks the effect by the precision ratio: 0.5 * (1/SE^2) / (1/SE^2 + 1/0.01^2)
    tight = fit_arrays_laplace(x, y, 3, coef_sd=0.01, cut_sd=100.0)
    prec = 1 / mle.se()[0] ** 2  # SE 0.0266 -> 1413
    assert tight.coef[0] == pytest.approx(0.5 * prec / (prec + 1e4), rel=0.05)  # 0.0619


def _po_rows(unit: str, value: str, item: str, counts: list[int]) -> list[Rating]:
    return [Rating(unit, item, ((value, 1),), k + 1) for k, c in enumerate(counts) for _ in range(c)]


def test_a_unit_rating_one_category_higher_gets_positive_effects() -> None:
    rows: list[Rating] = []
    base = {"Power": [10, 20, 30, 20, 10, 0], "Tradition": [0, 10, 20, 30, 20, 10]}
    for v, counts in base.items():
        for it in (f"{v}-1", f"{v}-2"):
            rows += _po_rows("low", v, it, counts)
            rows += _po_rows(
                "high", v, it, [0, *counts[:-2], counts[-2] + counts[-1]]
            )  # one higher, capped at 6
    data = OrdinalData(rows, 1, 6)
    for f in (fit_mle(data, backend="scipy"), fit_mle(data, backend="statsmodels"), fit_bayes(data)):
        for v in base:
            assert contrast(f, ContrastSpec("h-l", "high", "low", (v,))).mean > 0.5


def _exact_counts(tau: list[float], eta: float, n: int) -> list[int]:
    cum = [0.0, *[1 / (1 + math.exp(-(t - eta))) for t in tau], 1.0]
    return [round(n * (b - a)) for a, b in itertools.pairwise(cum)]


def test_centred_contrast_removes_a_shift_shared_by_every_value() -> None:
    tau = [-1.5, -0.5, 0.5, 1.5]
    effects = {"Power": 0.8, "Tradition": -0.4, "Hedonism": 0.0}
    rows: list[Rating] = []
    for v, b in effects.items():
        for unit, shift in (("a", 0.0), ("b", 0.7)):  # b rates every value 0.7 logits higher
            rows += _po_rows(unit, v, f"{v}-1", _exact_counts(tau, b + shift, 4000))
    data = OrdinalData(rows, 1, 5)
    for f in (fit_mle(data, backend="scipy"), fit_bayes(data, coef_sd=100.0, cut_sd=100.0)):
        for v in effects:
            raw = contrast(f, ContrastSpec("b-a", "b", "a", (v,)))
            cen = contrast(f, ContrastSpec("b-a", "b", "a", (v,), centred=True))
            assert raw.mean == pytest.approx(0.7, abs=1e-2)
            assert cen.mean == pytest.approx(0.0, abs=1e-2)
        # centred effects of one unit: beta[a, v] - mean over values (0.8, -0.4, 0) = 0.667, -0.533, -0.133
        power = contrast(f, ContrastSpec("a", "a", None, ("Power",), centred=True))
        assert power.mean == pytest.approx(0.8 - 0.4 / 3, abs=1e-2)


def test_order_covariate_and_posterior_predictive_check() -> None:
    rows: list[Rating] = []
    for order, shift in (("fwd", 0), ("rev", 1)):
        for it in ("a", "b", "c"):
            counts = [10, 20, 20, 10]
            rows += [
                Rating("m", it, (("Power", 1),), min(k + 1 + shift, 5), order=order)
                for k, c in enumerate(counts)
                for _ in range(c)
            ]
    data = OrdinalData(rows, 1, 5)
    _, _, summary = analyse(data, frequentist="scipy")
    (cov,) = summary["bayesian"]["covariates"]
    assert cov["name"] == "order=rev" and cov["low"] > 0  # reversed labels rate higher here
    (ppc,) = summary["bayesian"]["ppc"]
    assert ppc["n"] == 360 and len(ppc["observed"]) == 5
    assert sum(ppc["observed"]) == pytest.approx(1.0) and sum(ppc["predicted"]) == pytest.approx(1.0)
    assert ppc["observed"][0] == pytest.approx(30 / 360)


def test_mixed_scales_and_empty_data_are_refused() -> None:
    with pytest.raises(ValueError, match=r"outside 1\.\.5"):
        OrdinalData([Rating("m", "i", (("v", 1),), 6)], 1, 5)
    with pytest.raises(ConfigError, match="no parsed Likert ratings"):
        fit_mle(OrdinalData([], 1, 5))


# -- end to end on scripted runs -------------------------------------------------------------

PROBES = {p.id: p for p in load_bank("portrait").probes}


def persona_script(targets: dict[str, str], bad: set[str]) -> Callable[[ModelRequest], str]:
    """Rate the persona's target value's items 5, the others 3 (before the label order); some
    items get an answer the parser cannot read."""

    def answer(req: ModelRequest) -> str:
        pid = req.metadata["probe_id"]
        if pid in bad:
            return "banana"
        probe = PROBES[pid]
        ((value, weight),) = probe.keys.items()
        persona = req.metadata["persona"]
        n = int(pid.rsplit("-", 1)[1])  # item number within its value: 1, 2, 3
        want = (4 if value.value == targets.get(persona) else 2) + n % 3  # target 5, 6, 4; others 3, 4, 2
        if persona == "none" and value.value == "Hedonism" and n == 1:
            want = 1  # every rating 1..6 occurs somewhere
        rating = want if weight > 0 else 7 - want
        return str(7 - rating if req.metadata["reverse_labels"] else rating)

    return answer


def make_persona_run(root: Path) -> Path:
    targets = {"value-power": "Power", "value-tradition": "Tradition"}
    bad = {"portrait-PO-01"}

    answer = persona_script(targets, bad)
    m = parse_manifest(
        {
            "name": "personas",
            "models": [{"spec": "mock", "label": "mock"}],
            "probes": {"banks": ["portrait"], "limit_per_value": 3},
            "personas": ["none", "value-power", "value-tradition"],
            "scoring": {"n_boot": 50},
            "cache": False,
            "output_dir": str(root),
        }
    )
    outcome = execute_run(
        m, out=root / "personas", backend_factory=lambda spec, options, label: MockBackend(answer)
    )
    score_run(outcome.folder)
    return outcome.folder.root


@pytest.fixture(scope="module")
def persona_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_persona_run(tmp_path_factory.mktemp("ordinal-runs"))


def test_from_runs_counts_unparsed_and_uses_personas_as_units(persona_run: Path) -> None:
    data = OrdinalData.from_runs([persona_run])
    # 30 items (3 per value) x 3 personas x 2 label orders; item PO-01 unparsed in all 6 asks
    assert data.excluded == {"unparsed": 6}
    assert len(data.rows) == 30 * 3 * 2 - 6
    assert sorted(data.units) == ["none", "value-power", "value-tradition"]
    assert data.targets == {"value-power": ["Power"], "value-tradition": ["Tradition"]}
    assert (data.scale_min, data.scale_max) == (1, 6)


def test_cli_compare_ordinal_writes_json_plot_and_positive_target_contrasts(
    persona_run: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from valuespectrum.reports.cli import app

    out = tmp_path / "cmp"
    r = CliRunner().invoke(
        app, ["compare", str(persona_run), "--out", str(out), "--n-boot", "20", "--ordinal"]
    )
    assert r.exit_code == 0, r.output
    assert "left out: unparsed 6" in r.output
    s = json.loads((out / "ordinal.json").read_text())
    assert (out / "ordinal-forest.png").is_file() and (out / "ordinal-forest.svg").is_file()
    assert 'id="ordinal-targets"' in (out / "ordinal.html").read_text()
    assert s["baseline"] == "none" and s["n_ratings"] == 174
    raw = {t["a"]: t for t in s["bayesian"]["target_contrasts"] if not t["centred"]}
    assert set(raw) == {"value-power", "value-tradition"}
    for t in raw.values():
        assert t["low"] > 0 and t["p_below_zero"] < 0.025  # the target's items rated 2 points higher
    # scripted answers leave cells at one end of the scale: no finite maximum-likelihood estimate
    assert s["frequentist"]["converged"] is False and "separation" in s["frequentist"]["message"]
    (order,) = s["bayesian"]["covariates"]  # answers do not depend on the label order
    assert order["name"] == "order=rev" and abs(order["mean"]) < 1e-4
    cells = {(c["unit"], c["value"]) for c in s["bayesian"]["cells"]}
    assert len(cells) == 30  # 3 units x 10 values
    r = CliRunner().invoke(
        app, ["compare", str(persona_run), "--out", str(out), "--ordinal", "--baseline", "x"]
    )
    assert r.exit_code == 2 and "baseline 'x' is not a compared unit" in r.output
