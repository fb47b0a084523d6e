"""Multi-step dilemmas: loader, runner chains, resumption, metrics by hand, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from valuespectrum.backends.mock import MockBackend
from valuespectrum.designs.dilemmas.loader import load_dilemmas
from valuespectrum.designs.dilemmas.metrics import (
    bradley_terry,
    intransitive_triads,
    position_bias,
    preferences,
    summarize,
    win_rates,
)
from valuespectrum.designs.dilemmas.runner import run_dilemmas
from valuespectrum.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "manifests" / "data" / "mmd_dilemmas.json"


def _entity(ident: str, steps: list[tuple[str, str]], casing: str = "mixed") -> dict[str, str]:
    e = {"id": ident, "norm": "a norm"}
    for n, (va, vb) in enumerate(steps, 1):
        big = "step" if casing == "lower" else "Step"
        small = "Step" if casing == "upper" else "step"
        e[f"{big} {n}_situation"] = f"{ident} situation {n}"
        e[f"{big} {n}_dilemma"] = f"{ident} question {n}"
        e[f"{big} {n}_choiceA"] = f"{ident} choice A {n}"
        e[f"{big} {n}_choiceB"] = f"{ident} choice B {n}"
        e[f"{small} {n}_choiceA_value"] = va
        e[f"{small} {n}_choiceB_value"] = vb
    return e


def test_loader_casings_and_concatenated_arrays_give_identical_dilemmas(tmp_path: Path) -> None:
    raw = json.loads(FIXTURE.read_text())
    base = load_dilemmas(FIXTURE)
    assert len(base) == 5 and all(len(d.steps) == 5 for d in base)
    assert base[0].steps[0].values == ("Loyalty", "Fairness")
    lower = [{k.replace("Step", "step"): v for k, v in e.items()} for e in raw]
    upper = [{k.replace("step", "Step"): v for k, v in e.items()} for e in raw]
    (tmp_path / "lower.json").write_text(json.dumps(lower))
    (tmp_path / "upper.json").write_text(json.dumps(upper))
    # batches appended one after another, as the generation scripts write them
    (tmp_path / "cat.json").write_text(
        json.dumps(raw[:2], indent=1) + json.dumps(raw[2:3]) + "\n" + json.dumps(raw[3:])
    )
    for name in ("lower", "upper", "cat"):
        assert load_dilemmas(tmp_path / f"{name}.json") == base


def test_loader_normalises_labels_and_errors_name_file_dilemma_step(tmp_path: Path) -> None:
    p = tmp_path / "d.json"
    p.write_text(json.dumps([_entity("x1", [("Care/Harm", "fairness")])]))
    assert load_dilemmas(p)[0].steps[0].values == ("Care", "Fairness")
    p.write_text(json.dumps([_entity("x1", [("Care", "Fairness"), ("Greed", "Care")])]))
    with pytest.raises(
        ConfigError, match=r"d\.json: dilemma x1, step 2: key 'step 2_choiceA_value' = 'Greed'"
    ):
        load_dilemmas(p)
    e = _entity("x2", [("Care", "Fairness")])
    del e["Step 1_choiceB"]
    p.write_text(json.dumps([e]))
    with pytest.raises(ConfigError, match=r"dilemma x2, step 1: key 'Step 1_choiceB' is missing"):
        load_dilemmas(p)
    p.write_text(json.dumps([_entity("s", [("Benevolence", "Power")])]))
    assert load_dilemmas(p, "schwartz10")[0].steps[0].values == ("Benevolence", "Power")


def _two_dilemmas(tmp_path: Path) -> list:
    p = tmp_path / "two.json"
    p.write_text(
        json.dumps(
            [
                _entity("D1", [("Care", "Fairness"), ("Loyalty", "Care")]),
                _entity("D2", [("Fairness", "Care"), ("Care", "Authority")]),
            ]
        )
    )
    return load_dilemmas(p)


def test_wave2_example_preferences_win_rates_by_hand(tmp_path: Path) -> None:
    script = {"D1/1/AB": "A", "D1/2/AB": "B", "D2/1/AB": "A", "D2/2/AB": "A"}
    mock = MockBackend(script, logprobs=True)
    recs = run_dilemmas(mock, _two_dilemmas(tmp_path), tmp_path / "r.jsonl", orders=["AB"])
    step1 = preferences([r for r in recs if r["step"] == 1])
    step2 = preferences([r for r in recs if r["step"] == 2])
    assert {v: (e["chosen"], e["offered"]) for v, e in step1.items()} == {"Care": (1, 2), "Fairness": (1, 2)}
    assert {v: (e["chosen"], e["offered"]) for v, e in step2.items()} == {
        "Authority": (0, 1),
        "Care": (2, 2),
        "Loyalty": (0, 1),
    }
    vals = ["Care", "Fairness", "Loyalty", "Authority"]
    w = win_rates(recs, vals)
    assert w["rate"][0][1:] == [0.5, 1.0, 1.0]
    assert w["count"][0][1:] == [2, 1, 1]
    assert w["rate"][1][2] is None
    s = summarize(recs, vals, n_boot=20)["contexts"]["none"]
    assert s["per_step"]["2"]["Care"]["pref"] == 1.0
    assert s["ranking_per_step"]["2"] == ["Care", "Authority", "Loyalty"]
    assert s["intransitive_triads"] == []
    assert s["position_bias"]["AB"] == {"share_A": 0.75, "n": 4}


def test_intransitive_triad_is_listed_once() -> None:
    nan = None
    rate = [[nan, 1.0, 0.0, nan], [0.0, nan, 1.0, nan], [1.0, 0.0, nan, nan], [nan, nan, nan, nan]]
    assert intransitive_triads(rate, ["a", "b", "c", "d"]) == [["a", "b", "c"]]
    transitive = [[nan, 1.0, 1.0], [0.0, nan, 1.0], [0.0, 0.0, nan]]
    assert intransitive_triads(transitive, ["a", "b", "c"]) == []


def test_bradley_terry_three_players_solved_by_hand() -> None:
    # strengths 4:2:1 make every likelihood equation hold exactly:
    # A vs B 2-1 (3 games), B vs C 2-1 (3), A vs C 4-1 (5); A expects 3*4/6 + 5*4/5 = 6 wins, has 6
    wins = np.array([[0, 2, 4], [1, 0, 2], [1, 1, 0]])
    assert np.allclose(bradley_terry(wins), [4 / 7, 2 / 7, 1 / 7], atol=1e-9)
    # a prior keeps a value that never won finite and above zero
    p = bradley_terry(np.array([[0, 3], [0, 0]]), prior=0.5)
    assert np.allclose(p, [3.5 / 4.0, 0.5 / 4.0])


def test_full_context_step3_holds_this_orders_own_earlier_choices(tmp_path: Path) -> None:
    dilemmas = load_dilemmas(FIXTURE, limit=1)
    mock = MockBackend(default="A", logprobs=True)
    recs = run_dilemmas(mock, dilemmas, tmp_path / "r.jsonl", contexts=["full", "previous"])
    d = dilemmas[0]

    def prompt(ctx: str, order: str) -> str:
        r = next(r for r in recs if (r["context"], r["step"], r["order"]) == (ctx, 3, order))
        return "\n".join(f"{m['role']}: {m['text']}" for m in r["prompt"])

    ab, ba = prompt("full", "AB"), prompt("full", "BA")
    for n in (0, 1):
        assert f"assistant: A. {d.steps[n].choices[0]}" in ab
        assert f"assistant: A. {d.steps[n].choices[1]}" in ba  # BA shows choice B as "A"
        assert f"assistant: A. {d.steps[n].choices[1]}" not in ab
    prev = prompt("previous", "AB")
    assert d.steps[0].situation not in prev and d.steps[1].situation in prev
    assert f"assistant: A. {d.steps[1].choices[0]}" in prev
    # 5 steps x 2 orders x 2 contexts, and the "always A" model shows pure position bias
    assert len(recs) == 20
    pb = position_bias([r for r in recs if r["context"] == "full"])
    assert (
        pb["AB"]["share_A"] == 1.0 and pb["BA"]["share_A"] == 1.0 and pb["order_consistent"]["share"] == 0.0
    )


class _Killed(RuntimeError):
    pass


class _DiesAfter(MockBackend):
    def __init__(self, calls: int, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.left = calls

    def generate(self, requests):  # type: ignore[no-untyped-def]
        if self.left == 0:
            raise _Killed("killed")
        self.left -= 1
        return super().generate(requests)


def _varied(req) -> str:  # type: ignore[no-untyped-def]
    # depends on the prompt, so a wrongly rebuilt chain would change later answers
    return "A" if sum(map(ord, req.messages[-2].plain_text() if len(req.messages) > 2 else "x")) % 3 else "B"


def test_killed_run_resumes_to_identical_records(tmp_path: Path) -> None:
    dilemmas = load_dilemmas(FIXTURE)
    full = tmp_path / "full.jsonl"
    run_dilemmas(MockBackend(_varied, logprobs=True), dilemmas, full, contexts=["full", "none"])
    part = tmp_path / "part.jsonl"
    with pytest.raises(_Killed):
        run_dilemmas(_DiesAfter(3, script=_varied, logprobs=True), dilemmas, part, contexts=["full", "none"])
    with open(part, "a", encoding="utf-8") as fh:
        fh.write('{"context": "full", "dilemma": "own-1", "st')  # torn last line
    mock = MockBackend(_varied, logprobs=True)
    run_dilemmas(mock, dilemmas, part, contexts=["full", "none"])
    # killed after step 1 (chunks of 16 + 4) and the first chunk of step 2: 4 + 3 steps x 20 requests left
    assert mock.calls == 4 + 3 * 20
    assert part.read_text().splitlines() == full.read_text().splitlines()


def test_text_fallback_counts_unparsed(tmp_path: Path) -> None:
    dilemmas = _two_dilemmas(tmp_path)
    mock = MockBackend({"D1/1/AB": "B.", "D1/2/AB": "A or B", "D2/1/AB": "I pick A because", "D2/2/AB": ""})
    recs = run_dilemmas(mock, dilemmas, tmp_path / "t.jsonl", orders=["AB"])
    assert [r["status"] for r in recs] == ["parsed", "unparsed", "unparsed", "unparsed"]
    assert recs[0]["chosen_value"] == "Fairness" and recs[0]["method"] == "text"


def _vspec(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "valuespectrum", *args], capture_output=True, text=True, cwd=cwd
    )


def test_cli_runs_the_example_manifest_and_writes_a_report(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = _vspec(
        "dilemmas", "run", str(ROOT / "manifests" / "dilemmas.yaml"), "--out", str(out), cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    assert "share of A by label order AB: 1.0, BA: 1.0" in res.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["contexts"]) == {"none", "full", "previous"}
    assert len((out / "records.jsonl").read_text().splitlines()) == 3 * 5 * 5 * 2
    html = (out / "report.html").read_text()
    assert "staircase-full.png" in html and "winrate-none.png" in html
    assert (out / "staircase-full.png").stat().st_size > 1000
    # settings changed under the same folder: refused, not mixed
    m = tmp_path / "m.yaml"
    m.write_text(
        (ROOT / "manifests" / "dilemmas.yaml")
        .read_text()
        .replace("seed: 0", "seed: 1")
        .replace("data/mmd_dilemmas.json", str(FIXTURE))
    )
    res = _vspec("dilemmas", "run", str(m), "--out", str(out), cwd=tmp_path)
    assert res.returncode == 2 and "header.json differs" in res.stderr
    # a text-only model that answers nothing readable: unparsed counted, exit 1
    m.write_text(
        m.read_text()
        .replace('default: "A"', 'default: "perhaps"')
        .replace("logprobs: true", "logprobs: false")
    )
    res = _vspec("dilemmas", "run", str(m), "--out", str(tmp_path / "run2"), cwd=tmp_path)
    assert res.returncode == 1 and "150 of 150 choices unparsed" in res.stderr
