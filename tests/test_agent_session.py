"""Browsing sessions: trajectories, exact resume after a kill, failures, metrics and the command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agents.cli import browse
from agents.manifest import load_browse_manifest, parse_browse_manifest
from agents.metrics import session_metrics, value_distribution
from agents.session import VOLATILE_FIELDS, BrowseFolder, execute_browse
from agents.synthetic import synthetic_catalog
from valuespectrum.backends.mock import MockBackend
from valuespectrum.errors import ConfigError
from valuespectrum.results import BrowseStep
from valuespectrum.runs.jsonl import read_jsonl
from valuespectrum.types import ModelRequest, ModelResponse
from valuespectrum.values import Value

CATALOG = synthetic_catalog(per_value=40, dim=16, seed=3)


def script(req: ModelRequest) -> str:
    """Likes Tradition, searches once in a while, sometimes talks nonsense, else watches a bit."""
    item = CATALOG.item(req.metadata["video_id"])
    step = int(req.request_id.rsplit("|", 1)[1])
    if step % 11 == 5:
        return '{"action": "search", "query": "tradition"}'
    if step % 7 == 3:
        return "hmm, not sure"
    if Value.TRADITION in item.values:
        return '```json\n{"action": "like", "reason": "customs"}\n```'
    return '{"action": "watch", "dwell_seconds": 4}'


def raw_manifest(**over: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "name": "b",
        "seed": 5,
        "models": [{"spec": "mock", "label": "m", "modality": "text"}],
        "personas": ["value-tradition", "none"],
        "phases": {"training": 30, "evaluation": 15},
        "feed": {"warmup": 4, "epsilon": 0.2},
    }
    raw.update(over)
    return raw


def run(out: Path, backend: Any, fresh: bool = False, **over: Any):
    m = parse_browse_manifest(raw_manifest(**over))
    from agents.search import KeywordSearcher

    return execute_browse(
        m,
        out=out,
        fresh=fresh,
        catalog=CATALOG,
        searcher=KeywordSearcher(CATALOG),
        backend_factory=lambda *a: backend,
    )


def stable(path: Path) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in VOLATILE_FIELDS} for r in read_jsonl(path)]


class DiesAfter(MockBackend):
    """Answers like the script, then dies on call ``n`` (as a killed process would stop)."""

    def __init__(self, n: int) -> None:
        super().__init__(script)
        self.n = n

    def generate(self, requests: Any) -> list[ModelResponse]:
        if self.calls + 1 >= self.n:
            raise KeyboardInterrupt("killed")
        return super().generate(requests)


def test_killed_session_resumes_to_the_identical_trajectory(tmp_path: Path) -> None:
    whole = run(tmp_path / "whole", MockBackend(script))
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "cut", DiesAfter(17))
    folder = BrowseFolder(tmp_path / "cut")
    path = folder.trajectory("m", "value-tradition")
    assert len(list(read_jsonl(path))) == 16
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"step": 16, "phase": "trai')  # torn last line of a kill mid-write
    again = MockBackend(script)
    resumed = run(tmp_path / "cut", again)
    assert again.calls == (45 - 16) + 45  # no model calls for the 16 replayed steps
    for persona in ("value-tradition", "none"):
        a = stable(BrowseFolder(tmp_path / "whole").trajectory("m", persona))
        b = stable(folder.trajectory("m", persona))
        assert len(a) == 45 and a == b
    assert resumed.summary.sessions == whole.summary.sessions
    # a finished run re-run makes no calls at all
    idle = MockBackend(script)
    run(tmp_path / "cut", idle)
    assert idle.calls == 0


def test_trajectory_records_everything_and_search_feeds_results(tmp_path: Path) -> None:
    run(tmp_path / "r", MockBackend(script))
    recs = list(read_jsonl(BrowseFolder(tmp_path / "r").trajectory("m", "value-tradition")))
    assert [r["step"] for r in recs] == list(range(45))
    assert [r["phase"] for r in recs].count("training") == 30
    assert len({r["video_id"] for r in recs}) == 45  # never shown twice
    first = recs[0]
    assert first["prompt"][0]["role"] == "system" and "tradition" in json.dumps(first["prompt"][0])
    assert first["feed"]["mode"] == "diverse" and first["feed"]["affinity"] is None
    assert len(first["request_key"]) == 64
    search = recs[5]
    assert search["decision"]["action"] == "search" and search["decision"]["query"] == "tradition"
    assert len(search["search_results"]) == 5
    # the unseen results are served next, in order
    expected = [v for v in search["search_results"] if v not in {r["video_id"] for r in recs[:6]}]
    assert [r["video_id"] for r in recs[6 : 6 + len(expected)]] == expected
    assert all(r["feed"]["mode"] == "search" for r in recs[6 : 6 + len(expected)])
    garbled = recs[3]
    assert garbled["raw"] == "hmm, not sure" and garbled["decision"]["parsed"] is False
    assert garbled["decision"]["action"] == "skip"
    summary = json.loads(BrowseFolder(tmp_path / "r").summary.read_text())
    n_garbled = sum(1 for s in range(45) if s % 7 == 3 and s % 11 != 5)
    assert summary["n_unparsed"] == 2 * n_garbled and summary["n_failed"] == 0


def test_another_manifest_is_refused_in_the_same_folder(tmp_path: Path) -> None:
    run(tmp_path / "r", MockBackend(script))
    before = stable(BrowseFolder(tmp_path / "r").trajectory("m", "none"))
    with pytest.raises(ConfigError, match="different manifest"):
        run(tmp_path / "r", MockBackend(script), seed=6)
    again = MockBackend(script)
    run(tmp_path / "r", again, fresh=True, seed=6)  # --fresh starts the folder over
    after = stable(BrowseFolder(tmp_path / "r").trajectory("m", "none"))
    assert again.calls == 90 and len(after) == 45 and after != before


def test_failed_requests_are_counted_and_leave_the_feed_alone(tmp_path: Path) -> None:
    fails = [f"m|value-tradition|{i}" for i in (2, 8, 9)]
    backend = MockBackend(script, fail_ids=fails)
    out = run(tmp_path / "r", backend)
    assert out.n_failed == 3 and out.n_requests == 90
    assert out.failure_rate == pytest.approx(3 / 90)
    s = out.summary.sessions[0]
    assert s.n_failed == 3 and out.summary.n_failed == 3
    recs = list(read_jsonl(BrowseFolder(tmp_path / "r").trajectory("m", "value-tradition")))
    assert recs[8]["failed"] and recs[8]["error"] == "scripted failure" and recs[8]["decision"] is None
    assert recs[9]["feed"]["n_updates"] == recs[8]["feed"]["n_updates"]  # no update from a failure


def test_metrics_by_hand() -> None:
    def rec(step: int, phase: str, tags: list[str], action: str, dwell: float, failed: bool = False):
        return BrowseStep.model_validate(
            {
                "step": step,
                "phase": phase,
                "model": "m",
                "persona": "value-power",
                "video_id": f"v{step}",
                "request_key": "k",
                "shown": {"values": tags, "duration_s": 10.0},
                "feed": {"mode": "diverse", "target_affinity": None if step == 0 else 0.1 * step},
                "failed": failed,
                "decision": None if failed else {"action": action, "dwell_s": dwell, "parsed": True},
            }
        )

    recs = [
        rec(0, "training", ["Power"], "watch", 4.0),
        rec(1, "training", ["Power", "Security"], "like", 10.0),
        rec(2, "training", ["Hedonism"], "skip", 0.0),
        rec(3, "training", ["Universalism"], "watch", 2.0),
        rec(4, "evaluation", ["Power"], "like", 10.0),
        rec(5, "evaluation", ["Security"], "watch", 6.0),
        rec(6, "evaluation", ["Power"], "watch", 8.0, failed=True),
    ]
    m = session_metrics(recs, [Value.POWER], like_bonus=0.5, window=2, long_watch=0.5).model_dump()
    tr, ev = m["phases"]["training"], m["phases"]["evaluation"]
    # training: engaged seconds Power 4 + 15/2, Security 15/2, Universalism 2; total 21
    assert tr["value_distribution"]["Power"] == pytest.approx(11.5 / 21, abs=1e-6)
    assert tr["value_distribution"]["Security"] == pytest.approx(7.5 / 21, abs=1e-6)
    assert tr["value_distribution"]["Universalism"] == pytest.approx(2 / 21, abs=1e-6)
    assert tr["congruent_share"] == 0.5 and ev["congruent_share"] == pytest.approx(2 / 3, abs=1e-6)
    assert m["alignment"] == pytest.approx(2 / 3 - 0.5, abs=1e-6)
    assert tr["congruent_engaged_share"] == pytest.approx(19 / 21, abs=1e-6)
    assert ev["congruent_engaged_share"] == pytest.approx(15 / 21, abs=1e-6)
    assert m["n_failed"] == 1 and ev["actions"] == {"failed": 1, "like": 1, "watch": 1}
    d = m["drift"]
    assert d["windows"] == [1.0, 0.0, 0.5, 1.0]
    # least squares of (1,1,0,0,1,0,1) on 0..6: slope = -1/28 per step
    assert d["slope_per_100_steps"] == pytest.approx(-100 / 28, abs=1e-4)
    assert (d["interest_start"], d["interest_end"]) == (pytest.approx(0.1), pytest.approx(0.6))
    a = m["agreement"]
    # answered steps: engagement .4, 1.5, 0, .2, 1.5, .6 vs congruent 1, 1, 0, 0, 1, 0
    import numpy as np

    r = np.corrcoef([0.4, 1.5, 0, 0.2, 1.5, 0.6], [1, 1, 0, 0, 1, 0])[0, 1]
    assert a["engagement_congruence_r"] == pytest.approx(r, abs=1e-6)
    assert a["n_engaged"] == 3 and a["engaged_congruent_share"] == pytest.approx(2 / 3, abs=1e-6)
    assert value_distribution([recs[2]], 0.5) is None
    untargeted = session_metrics(recs, []).model_dump()
    assert (
        untargeted["alignment"] is None and untargeted["phases"]["training"]["value_distribution"] is not None
    )


def test_manifest_errors_name_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("models: [{spec: mock, modality: smell}]\nphases: {training: 0}\nfeeed: {}\n")
    with pytest.raises(ConfigError) as err:
        load_browse_manifest(bad)
    msg = str(err.value)
    assert f"{bad}: field 'models.0.modality'" in msg and "field 'phases.training'" in msg
    assert "field 'feeed': unknown field" in msg
    with pytest.raises(ConfigError, match="model labels must be unique"):
        parse_browse_manifest({"models": [{"spec": "mock"}, {"spec": "mock"}]})


def _cli_manifest(tmp_path: Path, fail: list[str]) -> Path:
    import yaml

    raw = raw_manifest(
        models=[
            {
                "spec": "mock",
                "label": "m",
                "modality": "text",
                "options": {"default": '{"action": "watch", "dwell_seconds": 3}', "fail_ids": fail},
            }
        ],
        personas=["value-power"],
        phases={"training": 6, "evaluation": 4},
        index={"synthetic": {"per_value": 5, "dim": 8}},
        output_dir="out",
        max_failure_rate=0.1,
    )
    path = tmp_path / "browse.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def _app():
    import typer

    app = typer.Typer()
    app.command()(browse)
    app.command("noop")(lambda: None)  # two commands, so typer keeps the command name
    return app


def test_command_exit_codes_follow_the_failure_threshold(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(_app(), ["browse", str(_cli_manifest(tmp_path, ["m|value-power|1"]))])
    assert ok.exit_code == 0, ok.output  # 1 of 10 failed: 10% is not above 10%
    summary = json.loads((tmp_path / "out" / "b" / "browse" / "summary.json").read_text())
    assert (summary["n_steps"], summary["n_failed"], summary["failure_rate"]) == (10, 1, 0.1)
    (tmp_path / "two").mkdir()
    bad = runner.invoke(
        _app(), ["browse", str(_cli_manifest(tmp_path / "two", ["m|value-power|1", "m|value-power|4"]))]
    )
    assert bad.exit_code == 1 and "2 of 10 requests failed (20.0% > allowed 10.0%)" in bad.output
    lenient = runner.invoke(
        _app(), ["browse", str(tmp_path / "two" / "browse.yaml"), "--max-failure-rate", "0.5"]
    )
    assert lenient.exit_code == 0, lenient.output
    missing = runner.invoke(_app(), ["browse", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "cannot read file" in missing.output


def test_likelihood_decisions_from_a_real_tiny_model(tmp_path: Path) -> None:
    """A local model that cannot write JSON still browses: decisions from option likelihoods."""
    import math
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from tiny_models import build_tiny_text_lm

    from valuespectrum.backends.hf import HFBackend

    backend = HFBackend(str(build_tiny_text_lm(None, "llama")), device="cpu")
    res = run(
        tmp_path / "run",
        backend,
        agent={"decision": "likelihood", "allow_search": False},
        personas=["value-tradition"],
        phases={"training": 6, "evaluation": 3},
    )
    assert res.n_failed == 0
    (traj,) = (tmp_path / "run" / "browse" / "trajectories").glob("*.jsonl")
    recs = list(read_jsonl(traj))
    assert len(recs) == 9
    for r in recs:
        d = r["decision"]
        assert d["parsed"] is True and d["action"] in ("like", "watch", "skip")
        probs = dict(kv.split("=") for kv in d["reason"].strip("p()").split(", "))
        assert math.isclose(sum(float(p) for p in probs.values()), 1.0, abs_tol=2e-3)


def test_likelihood_decision_by_hand() -> None:
    import math

    from agents.decide import decision_from_likelihoods

    like = decision_from_likelihoods([math.log(0.5), math.log(0.3), math.log(0.2)], 20.0)
    assert (like.action, like.dwell_s) == ("like", 20.0)
    watch = decision_from_likelihoods([math.log(0.2), math.log(0.5), math.log(0.3)], 20.0)
    assert watch.action == "watch" and watch.dwell_s == pytest.approx(20.0 * 0.7)
    skip = decision_from_likelihoods([math.log(0.1), math.log(0.2), math.log(0.7)], 20.0)
    assert (skip.action, skip.dwell_s) == ("skip", 0.0)
    missing = decision_from_likelihoods(None, 20.0)
    assert missing.parsed is False and missing.action == "skip" and "likelihood" in (missing.problem or "")


def test_failed_steps_at_the_end_are_asked_again_on_resume(tmp_path: Path) -> None:
    down = MockBackend(script, fail_ids=[f"m|value-tradition|{i}" for i in (42, 43, 44)])
    first = run(tmp_path / "r", down)
    assert first.n_failed == 3
    again = run(tmp_path / "r", MockBackend(script))
    assert again.n_failed == 0
    assert run(tmp_path / "clean", MockBackend(script)).n_failed == 0
    for persona in ("value-tradition", "none"):
        got = stable(BrowseFolder(tmp_path / "r").trajectory("m", persona))
        want = stable(BrowseFolder(tmp_path / "clean").trajectory("m", persona))
        assert got == want
