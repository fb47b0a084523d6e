"""Opt-in: AdAEM end to end on SmolLM2-135M-Instruct as generator, extractor and, under three
value personas, the three "models" under test.

It checks the plumbing on a real model: the trace holds every call, a rerun replays all of them
with no model call, counts add up, and the evaluation rates the personas per value. It asserts
no effect: a 135M model is not expected to show the published ones, and the figures are
printed for the record.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.smollm2 import needs_smollm2, smollm2_folder

PERSONAS = ("value-tradition", "value-power", "value-universalism")


@pytest.mark.slow
@pytest.mark.realmodel
@pytest.mark.timeout(900)
@needs_smollm2
def test_smollm2_adaem_generate_and_evaluate(tmp_path: Path, capsys) -> None:
    import torch

    folder = smollm2_folder()
    spec = f"hf:{folder}"
    entry = f"{{spec: '{spec}', options: {{batch_size: 8}}}}"
    models = "\n".join(
        f"  - {{spec: '{spec}', label: {p}, persona: {p}, options: {{batch_size: 8}}}}" for p in PERSONAS
    )
    common = f"models:\n{models}\nextractor: {entry}\nmax_opinions: 2\nmax_new_tokens: 40\noutput_dir: .\nmax_unread_rate: 0.0\n"
    (tmp_path / "gen.yaml").write_text(
        "name: gen\ngenerators: [" + entry + "]\ntopics: [family traditions, money and success]\n"
        "budget: 2\nn_questions: 1\nn_refine: 1\n" + common,
        encoding="utf-8",
    )
    (tmp_path / "eval.yaml").write_text("name: eval\nquestions: gen\nn_boot: 50\n" + common, encoding="utf-8")

    from valuespectrum.designs.adaem.design import run_evaluate, run_generate

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _, gen = run_generate(tmp_path / "gen.yaml")
        trace = (tmp_path / "gen" / "trace.jsonl").read_text().splitlines()
        calls = sum(json.loads(x).get("type") == "call" for x in trace)
        assert calls == gen["calls_made"] > 0 and gen["calls_replayed"] == 0
        assert gen["n_unread_judgments"] == 0  # options mode always gives a label
        _, again = run_generate(tmp_path / "gen.yaml")
        assert again["calls_made"] == 0 and again["calls_replayed"] == calls
        assert (tmp_path / "gen" / "trace.jsonl").read_text().splitlines() == trace
        _, ev = run_evaluate(tmp_path / "eval.yaml")
    finally:
        torch.set_num_threads(threads)
    assert ev["models"] == list(PERSONAS) and ev["quality"]["n_questions"] == gen["n_questions"]
    for v in ev["values"]:
        r = ev["ratings"][v]
        assert sum(r["models"][m]["win_rate"] is not None for m in PERSONAS) in (0, 2, 3)
    with capsys.disabled():
        print(
            f"\nSmolLM2 AdAEM generate: {gen['n_questions']} questions, {calls} calls, mean score {gen['mean_score']}"
        )
        for q in gen["top"]:
            print(f"  {q['score']:.3f} [{q['topic']}] {q['question']}")
        print(f"evaluate: {ev['calls_made']} calls; Self-BLEU {ev['quality']['self_bleu']}")
        for p in PERSONAS:
            print(f"  {p}: presence {ev['profile'][p]}")
        for v in ("Tradition", "Power", "Universalism"):
            print(
                f"  {v}: " + ", ".join(f"{m} mu {ev['ratings'][v]['models'][m]['mu']:.2f}" for m in PERSONAS)
            )
