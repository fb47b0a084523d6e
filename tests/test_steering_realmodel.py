"""Opt-in: steering SmolLM2-135M-Instruct with the controls computed and reported honestly.

Small models show little real steering (label order dominates their ratings and mean-difference
vectors move profiles about as much as random ones), so this test checks that the controls are
computed and that the verdict follows them; it asserts no steering effect.
"""

from __future__ import annotations

import math

import pytest
from cli_runs import kill_cli_at_lines
from smollm2 import needs_smollm2, smollm2_folder, smollm2_spec

from valuespectrum.values import Value


@pytest.mark.slow
@pytest.mark.realmodel
@pytest.mark.timeout(2400)
@needs_smollm2
def test_smollm2_steering_report_states_effect_against_controls(capsys):
    from valuespectrum.backends.hf import HFBackend
    from valuespectrum.probes.bank import load_bank
    from valuespectrum.steering.collect import extract_vectors
    from valuespectrum.steering.evaluate import Z_THRESHOLD, evaluate_steering
    from valuespectrum.steering.pairs import builtin_pairs

    backend = HFBackend(str(smollm2_folder()), batch_size=8)
    ex = extract_vectors(
        backend.model, backend.tokenizer, builtin_pairs(), Value.BENEVOLENCE, [15], model_id=backend.model_id
    )
    per_value: dict[Value, int] = {}
    probes = []
    for p in load_bank("portrait").probes:
        v = next(iter(p.keys))
        if per_value.get(v, 0) < 1:
            per_value[v] = per_value.get(v, 0) + 1
            probes.append(p)
    # fluency and capability are exercised on tiny models; here only the controls, to stay within minutes on CPU
    report = evaluate_steering(
        backend, probes, [ex.caa], [4.0], seed=0, n_random=3, fluency=False, capability=False
    )
    kinds = [c.kind for c in report.conditions]
    assert kinds.count("random") == 3 and "neutral_persona" in kinds and "persona" in kinds
    base = report.condition("baseline")
    assert base.order_r is not None and -1.0 <= base.order_r <= 1.0
    (eff,) = report.effects
    assert eff.z_vs_random is not None and math.isfinite(eff.z_vs_random)
    if abs(eff.z_vs_random) < Z_THRESHOLD:
        assert eff.verdict.startswith("Not distinguishable")
    else:
        assert "beyond random" in eff.verdict
    with capsys.disabled():
        print(f"\nprobe held-out accuracy at layer 15: {ex.accuracy_table()[15]:.2f}")
        print(report.summary_text())


@pytest.mark.slow
@pytest.mark.realmodel
@pytest.mark.timeout(2400)
@needs_smollm2
def test_smollm2_steer_eval_is_a_resumable_run_matching_vspec_run(tmp_path, capsys):
    """`vspec steer eval` leaves responses.jsonl, resumes after kill -9, and its persona rows are a `vspec run`'s."""
    import json
    import signal

    from typer.testing import CliRunner

    from valuespectrum.cli import app
    from valuespectrum.runs.jsonl import read_jsonl
    from valuespectrum.steering.evaluate import SteeringReport

    model = {
        "spec": smollm2_spec(),
        "label": "smollm2",
        "options": {"dtype": "float32", "batch_size": 1},
    }
    # one item for each of four values, to stay within minutes on CPU
    probes = {"banks": ["portrait"], "values": ["Benevolence", "Power", "Universalism", "Achievement"]}
    probes["limit_per_value"] = 1
    runner = CliRunner()
    (tmp_path / "x.yaml").write_text(
        json.dumps({"model": model, "layers": [15], "values": ["Benevolence"], "out": "vec"})
    )
    res = runner.invoke(app, ["steer", "extract", str(tmp_path / "x.yaml")])
    assert res.exit_code == 0, res.output
    (tmp_path / "e.yaml").write_text(
        json.dumps(
            {
                "model": model,
                "vectors": ["vec/benevolence-caa.json"],
                "probes": probes,
                "multipliers": [4.0],
                "n_random": 2,
                "fluency": False,
                "capability": False,
                "batch_size": 1,
                "cache": False,
                "out": "steer-run",
            }
        )
    )
    total = 4 * 2 * (3 + 1 + 2)  # items x label orders x (none, neutral, value persona, vector, 2 random)
    responses = tmp_path / "steer-run" / "responses.jsonl"
    returncode = kill_cli_at_lines(["steer", "eval", str(tmp_path / "e.yaml")], tmp_path, responses, 12, 600)
    at_kill = responses.read_text().count("\n")
    assert returncode == -signal.SIGKILL and 12 <= at_kill < total
    res = runner.invoke(app, ["steer", "eval", str(tmp_path / "e.yaml")])  # resumes
    assert res.exit_code == 0, res.output
    recs = list(read_jsonl(responses))
    assert len(recs) == total and len({r["record_id"] for r in recs}) == total
    assert all(r["response"]["error"] is None and r["response"]["option_logprobs"] for r in recs)

    (tmp_path / "run.yaml").write_text(
        json.dumps(
            {
                "name": "plain",
                "models": [model],
                "probes": probes,
                "personas": ["none", "neutral", "value-benevolence"],
                "batch_size": 1,
                "cache": False,
                "output_dir": "runs",
            }
        )
    )
    res = runner.invoke(app, ["run", str(tmp_path / "run.yaml")])
    assert res.exit_code == 0, res.output

    def rows(recs_):
        # option log-likelihoods are compared to 1e-4: the killed run answered its first records in
        # a subprocess, whose CPU thread count may sum floats in another order than this process
        out = {}
        for r in recs_:
            resp = {k: v for k, v in r["response"].items() if k not in ("latency_s", "cached")}
            out[r["record_id"]] = {**r, "response": resp}
        return out

    def logprobs(rows_):
        return {rid: r["response"].pop("option_logprobs") for rid, r in rows_.items()}

    plain = rows(read_jsonl(tmp_path / "runs" / "plain" / "responses.jsonl"))
    persona_rows = rows(r for r in recs if r["model"] == "smollm2")
    lp_plain, lp_persona = logprobs(plain), logprobs(persona_rows)
    assert len(plain) == 24 and persona_rows == plain
    for rid, lps in lp_plain.items():
        assert lp_persona[rid] == pytest.approx(lps, abs=1e-4), rid

    report = SteeringReport.model_validate_json(
        (tmp_path / "steer-run" / "steering" / "report.json").read_text()
    )
    (eff,) = report.effects
    assert len(eff.random_deltas) == 2 and eff.z_vs_random is not None
    with capsys.disabled():
        print("\n" + report.summary_text())
        print(
            f"target change {eff.target_delta:+.2f} vs random {eff.random_mean:+.2f} ± {eff.random_sd:.2f} "
            f"(z = {eff.z_vs_random:+.2f}); resumed after a kill at {at_kill} of {total} records"
        )
