"""Value-driven decisions: MCDM by hand, the published variant, importers, similarity, the CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_runs import vspec

from valuespectrum.backends.mock import MockBackend
from valuespectrum.designs.decisions import assess
from valuespectrum.designs.decisions.compare import mean_ci, paired_difference, set_similarity
from valuespectrum.designs.decisions.dataset import load_dataset, load_people, load_scenarios
from valuespectrum.designs.decisions.maker import parse_ranking, rank_actions
from valuespectrum.designs.decisions.mcdm import (
    maut,
    promethee2,
    rank,
    topsis,
    valuepilot_scores,
    valuepilot_variant,
    weighted_sum,
)
from valuespectrum.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "manifests" / "data" / "valuepilot"


def test_set_based_similarity() -> None:
    assert set_similarity([1, 2, 3], [2, 1, 3]) == pytest.approx(2 / 3)
    assert round(set_similarity([1, 2, 3], [2, 1, 3]), 4) == 0.6667
    assert set_similarity([1, 2, 3], [1, 2, 3]) == 1.0
    assert set_similarity([3, 2, 1], [1, 2, 3]) == pytest.approx((0 + 0.5 + 1) / 3)


def test_promethee2_usual_small_matrix() -> None:
    x = [[2, 2], [1, 3], [0, 0]]
    assert np.allclose(promethee2(x, [0.5, 0.5]), [0.5, 0.5, -1.0])
    # linear with q=0, p=2: pi(a,b) = 0.5*0.5, pi(b,a) = 0.5*0.5, pi(a,c) = 1, pi(b,c) = 0.5*0.5 + 0.5*1
    lin = promethee2(x, [0.5, 0.5], pref_fn="linear", q=0.0, p=2.0)
    assert np.allclose(lin, [((0.25 + 1) - 0.25) / 2, ((0.25 + 0.75) - 0.25) / 2, (0 - 1.75) / 2])
    g = promethee2([[1.0], [0.0]], [1.0], pref_fn="gaussian", s=1.0)
    assert np.allclose(g, [1 - math.exp(-0.5), -(1 - math.exp(-0.5))])


def test_topsis_weighted_sum_maut_small_matrices() -> None:
    assert np.allclose(topsis([[3, 0], [0, 4], [3, 4]], [1, 1]), [0.5, 0.5, 1.0])
    x = [[0.2, 9], [0.7, 1], [0.5, 5]]
    assert rank(weighted_sum(x, [1, 0])) == [1, 2, 0]
    # MAUT alpha=0 is the weighted sum of min-max scaled criteria: (0, 1, 0.6) on the first
    assert np.allclose(maut(x, [1, 0], alpha=0), [0.0, 1.0, 0.6])


# Our own demo: four actions, preferences (0.9, 0.1, 0.5, 0.5, 0.5, 0.5).
DEMO_ACTIONS = [
    [0.8, 0.1, 0.2, 0.5, 0.3, 0.4],
    [0.3, 0.6, 0.4, 0.2, 0.5, 0.3],
    [0.1, 0.2, 0.9, 0.3, 0.2, 0.6],
    [0.6, 0.3, 0.5, 0.7, 0.6, 0.5],
]
DEMO_SCENARIO = [0.7, 0.2, 0.5, 0.6, 0.4, 0.3]
DEMO_PREFS = [0.9, 0.1, 0.5, 0.5, 0.5, 0.5]


def _hand_r() -> list[list[float]]:
    """The variant's criterion matrix, one number at a time."""

    def g(x: float) -> float:
        return 1 / (1 + math.exp(-10 * (x - 0.5)))

    rows = []
    for act in DEMO_ACTIONS:
        row = []
        for k in range(6):
            s2 = 0.3 * (1 - abs(abs(g(DEMO_SCENARIO[k])) - g(DEMO_PREFS[k]))) + 0.7 * DEMO_SCENARIO[k]
            a2 = 0.3 * (1 - abs(abs(g(act[k])) - g(DEMO_PREFS[k]))) + 0.7 * act[k]
            row.append(1 / (1 + math.exp(-abs(s2))) * a2)
        total = sum(row)
        rows.append([v / total for v in row])
    return rows


def test_valuepilot_variant_equals_hand_computation() -> None:
    r = _hand_r()
    assert np.allclose(valuepilot_scores(DEMO_ACTIONS, DEMO_SCENARIO, DEMO_PREFS), r)
    p = [x / sum(DEMO_PREFS) for x in DEMO_PREFS]
    n = len(r)
    ahp = [sum(r[i][k] * p[k] for k in range(6)) for i in range(n)]
    assert np.allclose(valuepilot_variant(DEMO_ACTIONS, DEMO_SCENARIO, DEMO_PREFS, "ahp"), ahp)
    pp = [
        [math.prod((1 / (1 + math.exp(-(r[i][k] - r[j][k])))) ** p[k] for k in range(6)) for j in range(n)]
        for i in range(n)
    ]
    prom = [sum(pp[i]) / n - sum(pp[j][i] for j in range(n)) / n for i in range(n)]
    assert np.allclose(valuepilot_variant(DEMO_ACTIONS, DEMO_SCENARIO, DEMO_PREFS, "promethee"), prom)
    v = [[r[i][k] * p[k] for k in range(6)] for i in range(n)]
    best = [max(v[i][k] for i in range(n)) for k in range(6)]
    worst = [min(v[i][k] for i in range(n)) for k in range(6)]
    top = []
    for i in range(n):
        dp = math.dist(v[i], best)
        dm = math.dist(v[i], worst)
        top.append(dm / (dp + dm))
    assert np.allclose(valuepilot_variant(DEMO_ACTIONS, DEMO_SCENARIO, DEMO_PREFS, "topsis"), top)
    lo = [min(r[i][k] for i in range(n)) for k in range(6)]
    hi = [max(r[i][k] for i in range(n)) for k in range(6)]
    mt = [
        sum(p[k] * (1 - math.exp(-0.5 * (r[i][k] - lo[k]) / (hi[k] - lo[k]))) for k in range(6))
        for i in range(n)
    ]
    assert np.allclose(valuepilot_variant(DEMO_ACTIONS, DEMO_SCENARIO, DEMO_PREFS, "maut"), mt)
    # pinned to 4 decimals (regression of the numbers above)
    assert [(i, round(prom[i], 4)) for i in rank(prom)] == [
        (0, 0.0113),
        (3, 0.0035),
        (1, -0.006),
        (2, -0.0088),
    ]
    assert [(i, round(ahp[i], 4)) for i in rank(ahp)] == [(0, 0.1906), (3, 0.1749), (1, 0.1557), (2, 0.1502)]
    assert [(i, round(top[i], 4)) for i in rank(top)] == [(0, 0.6529), (3, 0.532), (1, 0.3558), (2, 0.3194)]
    assert [(i, round(mt[i], 4)) for i in rank(mt)] == [(3, 0.2028), (0, 0.2003), (2, 0.1678), (1, 0.153)]


def test_valuepilot_ahp_ties_every_action_under_equal_preferences() -> None:
    scores = valuepilot_variant(DEMO_ACTIONS, DEMO_SCENARIO, [0.5] * 6, "ahp")
    assert np.allclose(scores, 1 / 6)


def test_scenario_importer_round_trip_and_errors(tmp_path: Path) -> None:
    sc = load_scenarios(DATA / "questionnaire.json")
    assert len(sc) == 3 and len(sc[0].actions) == 4
    assert sc[0].relevance == [1.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    raw = json.loads((DATA / "questionnaire.json").read_text())
    (tmp_path / "cat.json").write_text(json.dumps(raw[:1]) + json.dumps(raw[1:]))
    assert load_scenarios(tmp_path / "cat.json") == sc
    raw[1]["actions"][2]["values"] = [0.1] * 5
    (tmp_path / "bad.json").write_text(json.dumps(raw))
    with pytest.raises(ConfigError, match=r"bad\.json: scenario 2, action 3: 'values' must hold 6 numbers"):
        load_scenarios(tmp_path / "bad.json")
    raw[1]["actions"][2]["values"] = [0.1, 0.1, 0.1, 0.1, 0.1, 1.5]
    (tmp_path / "bad.json").write_text(json.dumps(raw))
    with pytest.raises(ConfigError, match=r"scenario 2, action 3: value 1.5 is not a number in -1.0..1.0"):
        load_scenarios(tmp_path / "bad.json")
    ds = load_dataset(DATA / "dataset")
    assert [s.split for s in ds] == ["test"] + ["train"] * 5
    people = load_people(DATA / "results.json", sc)
    assert people[0].rankings[0] == (0, 1, 3, 2)
    bad = json.loads((DATA / "results.json").read_text())
    bad[1]["choices"][2] = [1, 2, 2, 4]
    (tmp_path / "people.json").write_text(json.dumps(bad))
    with pytest.raises(ConfigError, match=r"person 2, scenario 3: ranking \[1, 2, 2, 4\] is not an ordering"):
        load_people(tmp_path / "people.json", sc)


def test_bootstrap_helpers() -> None:
    assert mean_ci([0.5])["mean"] == 0.5 and mean_ci([0.5])["lo"] is None
    ci = mean_ci([0.0, 1.0, 1.0, 1.0], n_boot=2000)
    assert ci["mean"] == 0.75 and 0.0 <= ci["lo"] <= 0.75 <= ci["hi"] <= 1.0  # type: ignore[operator]
    d = paired_difference([1.0, 0.5, 0.75], [0.5, 0.5, 0.25], n_boot=200)
    assert d["mean"] == pytest.approx((0.5 + 0 + 0.5) / 3)


def test_parse_ranking_is_strict() -> None:
    assert parse_ranking("2, 1, 3", 3) == [1, 0, 2]
    assert parse_ranking("Ranking: 3 > 1 > 2", 3) == [2, 0, 1]
    assert parse_ranking("2, 1", 3) is None
    assert parse_ranking("2, 2, 1", 3) is None
    assert parse_ranking("Action 2 is best", 3) is None


def test_model_decision_maker_text_and_options(tmp_path: Path) -> None:
    sc = load_scenarios(DATA / "questionnaire.json")
    tasks = [("p", s, [0.5] * 6) for s in sc]
    mock = MockBackend({"p/1": "2, 1, 4, 3", "p/2": "2, 1", "p/3": "4,3,2,1"})
    recs = rank_actions(mock, tasks, tmp_path / "m.jsonl")
    assert [recs[("p", s.id)]["ranking"] for s in sc] == [[1, 0, 3, 2], None, [3, 2, 1, 0]]
    assert recs[("p", "2")]["status"] == "unparsed"
    again = MockBackend(default="1")
    rank_actions(again, tasks, tmp_path / "m.jsonl")
    assert again.calls == 0  # resumed: everything stored
    lp = rank_actions(MockBackend(default="3", logprobs=True), tasks, tmp_path / "lp.jsonl")
    assert lp[("p", "1")]["ranking"] == [2, 0, 1, 3] and lp[("p", "1")]["method"] == "options"


def test_judge_assessor_reads_the_five_point_scale() -> None:
    sc = load_scenarios(DATA / "questionnaire.json")[:1]
    a = assess.judge(MockBackend(default="4", logprobs=True), sc)
    assert a.n_requests == 4 * 6 and a.n_unread == 0
    assert np.allclose(a.ratings[sc[0].id], 0.5)
    t = assess.judge(MockBackend(default="no idea"), sc)
    assert t.n_unread == 24 and np.allclose(t.ratings[sc[0].id], 0.0)


def test_probe_assessor_trains_on_frozen_features_of_a_tiny_model() -> None:
    pytest.importorskip("torch")
    from tests.tiny_models import build_tiny_text_lm
    from valuespectrum.backends.hf import HFBackend

    backend = HFBackend(str(build_tiny_text_lm()), device="cpu")
    train = [s for s in load_dataset(DATA / "dataset") if s.split == "train"]
    a = assess.probe(backend, train, train, alpha=1e-3)
    # nearly interpolates its own training actions (15 actions, 6 targets)
    assert a.details["n_train_actions"] == 15 and a.details["mae"] < 0.1
    test = [s for s in load_dataset(DATA / "dataset") if s.split == "test"]
    b = assess.probe(backend, train, test)
    assert b.ratings[test[0].id].shape == (3, 6) and np.all(np.abs(b.ratings[test[0].id]) <= 1)


def _hand_similarity(method_scores) -> float:  # type: ignore[no-untyped-def]
    sc = load_scenarios(DATA / "questionnaire.json")
    people = load_people(DATA / "results.json", sc)
    per = []
    for p in people:
        sims = []
        for s, human in zip(sc, p.rankings, strict=True):
            x = np.array([a.ratings for a in s.actions])
            order = sorted(range(len(x)), key=lambda i: (-method_scores(x, p.preferences)[i], i))
            sims.append(set_similarity(order, list(human)))
        per.append(sum(sims) / len(sims))
    return sum(per) / len(per)


def test_cli_decide_on_the_example_manifest(tmp_path: Path) -> None:
    out = tmp_path / "dec"
    res = vspec("decide", str(ROOT / "manifests" / "decisions.yaml"), "--out", str(out), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    summary = json.loads((out / "summary.json").read_text())
    rows = {(r["assessor"], r["method"]): r for r in summary["similarity"]}
    assert len(rows) == 10 and all(r["reference"] == "human" and r["n"] == 3 for r in rows.values())
    ws = _hand_similarity(lambda x, p: x @ (np.array(p) / sum(p)))
    assert rows[("oracle", "weighted_sum")]["similarity"] == pytest.approx(ws)
    assert len(summary["paired_differences"]) == 9
    assert "set-based ranking similarity" in (out / "report.html").read_text()


def test_manifest_errors_name_the_field(tmp_path: Path) -> None:
    m = tmp_path / "m.yaml"
    m.write_text(f"scenarios: {DATA / 'questionnaire.json'}\nmethods: [electre]\nprofiles: []\n")
    res = subprocess.run(
        [sys.executable, "-m", "valuespectrum", "decide", str(m)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert res.returncode == 2 and "field 'methods'" in res.stderr and "electre" in res.stderr
