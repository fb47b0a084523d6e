"""COUPLE: metrics by hand, the attribution parser, the intervention gate with call counts,
relations, loaders and importers, calibration, determinism, resume and the CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from valuespectrum.backends.mock import MockBackend
from valuespectrum.designs.couple.attribution import Attributor, expected_score, parse_concepts, parse_scores
from valuespectrum.designs.couple.calibration import calibrate
from valuespectrum.designs.couple.calls import Caller
from valuespectrum.designs.couple.metrics import aggregate, mae, profile_metrics, spearman, spearman_no_ties
from valuespectrum.designs.couple.objectives import (
    SCHWARTZ10,
    ValueObjective,
    floor_1_6,
    load_objectives,
)
from valuespectrum.designs.couple.pipeline import Pipeline, run_pairs
from valuespectrum.designs.couple.questions import Question, load_questions, opinion_question
from valuespectrum.designs.couple.relations import circumplex, load_relations
from valuespectrum.errors import ConfigError
from valuespectrum.types import ModelResponse

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "manifests" / "couple.yaml"
DATA = ROOT / "manifests" / "data" / "couple"

# ---------------------------------------------------------------- metrics (wave2 §1.7.1)


def test_mae_and_spearman_by_hand() -> None:
    t, o = {"a": 5, "b": 3, "c": 1}, {"a": 4, "b": 3, "c": 2}
    assert mae(t, o) == pytest.approx(2 / 3)
    assert spearman(t, o) == pytest.approx(1.0)
    dims = list("abcde")
    up = dict(zip(dims, [5, 4, 3, 2, 1], strict=True))
    down = dict(zip(dims, [1, 2, 3, 4, 5], strict=True))
    assert mae(up, down) == pytest.approx(2.4)
    assert spearman(up, down) == pytest.approx(-1.0)
    assert spearman_no_ties(up, down) == pytest.approx(-1.0)


def test_ties_separate_the_two_spearman_forms() -> None:
    # ranks (3,2,1) vs (2.5,2.5,1): sum d^2 = 0.5 -> 1 - 6*0.5/24 = 0.875; Pearson on ranks 1.5/sqrt(3)
    t, o = {"a": 5, "b": 4, "c": 3}, {"a": 4, "b": 4, "c": 2}
    assert spearman_no_ties(t, o) == pytest.approx(0.875)
    assert spearman(t, o) == pytest.approx(1.5 / math.sqrt(3))


def test_constant_profile_has_no_spearman_and_is_counted() -> None:
    t = {"a": 5, "b": 3, "c": 1}
    flat = {"a": 3, "b": 3, "c": 3}
    assert spearman(t, flat) is None
    rows = [profile_metrics(t, flat, list(t)), profile_metrics(t, {"a": 4, "b": 3, "c": None}, list(t))]
    assert rows[1]["mae"] == pytest.approx(0.5) and rows[1]["n_unscored"] == 1
    agg = aggregate(rows)
    assert agg["n_spearman_none"] == 1 and agg["spearman"] == pytest.approx(1.0)
    assert agg["mae"] == pytest.approx((4 / 3 + 0.5) / 2) and agg["n_unscored_dims"] == 1


# ---------------------------------------------------------------- parsing (§1.7.2)


def test_parser_reads_lines_and_never_guesses() -> None:
    p = parse_scores("Self-direction: [4]\nPower: 2\nSecurity: five", SCHWARTZ10)
    assert p.scores == {"Self-Direction": 4, "Power": 2}
    assert "Security" in p.unparsed and "five" in p.unparsed["Security"]
    assert p.unparsed["Tradition"] == "no line for this value"
    p = parse_scores(
        "- **Hedonism**: score: 4\n2. Tradition: 3/5\nUniversalism: 3-4\nAchievement: 2.5\n"
        "Conformity: 2\nconformity: 3\nBE: [5] mostly\nPower: 7",
        SCHWARTZ10,
    )
    assert p.scores == {"Hedonism": 4, "Tradition": 3, "Benevolence": 5}
    assert set(p.unparsed) >= {"Universalism", "Achievement", "Conformity", "Power"}
    assert "conflicting" in p.unparsed["Conformity"] and "outside" in p.unparsed["Power"]


def test_concepts_and_expected_value() -> None:
    assert parse_concepts("intro\n- one idea\n* two\n1. three\nnot a line") == ["one idea", "two", "three"]
    tagged = "- reasoning line\n<answer>\n- kept\n</answer>"
    assert parse_concepts(tagged, tagged=True) == ["kept"]
    ev, probs = expected_score([math.log(0.5), -math.inf, -math.inf, math.log(0.25), math.log(0.25)])
    assert ev == pytest.approx(0.5 * 1 + 0.25 * 4 + 0.25 * 5) and probs is not None
    assert expected_score(None) == (None, None)


# ---------------------------------------------------------------- the pipeline (§1.7.3)

SCRIPT = {
    "generate.raw": "Stance: yes. Rules keep us safe.",
    "generate.role_prompt": "Stance: no. Choose freely.",
    "generate.value_prompt": "Stance: no. Freedom first.",
    "attribute.concepts": "- rules keep people safe",
    "attribute.scores": "Self-Direction: [4]\nPower: [2]",
    "couple.counterfactual": "<answer>\n- people decide for themselves\n</answer>",
    "couple.final": "Stance: no\nKey points:\n1. freedom",
    "evaluate.concepts": "- a concept",
    "evaluate.scores": "Self-Direction: 5\nPower: 2",
}
OBJ = ValueObjective(name="free", scores={"Self-Direction": 5, "Power": 1})
QS = [Question("q1", "Should we do it?"), Question("q2", "Should we not do it?")]


def _pipeline(tau: float, gen: MockBackend, ev: MockBackend) -> Pipeline:
    dims = ["Self-Direction", "Power"]
    g = Caller(gen, "generator")
    return Pipeline(
        generator=g,
        attributor=Attributor(g, dims),
        evaluator=Attributor(Caller(ev, "evaluator"), dims, role="evaluate"),
        graph=circumplex(SCHWARTZ10),
        tau=tau,
    )


def _roles(mock: MockBackend) -> list[str]:
    return [str(r.metadata["probe_id"]) for r in mock.requests_seen]


def test_no_intervention_when_delta_is_at_most_tau(tmp_path: Path) -> None:
    gen, ev = MockBackend(SCRIPT, model_id="gen"), MockBackend(SCRIPT, model_id="ev")
    recs = run_pairs(_pipeline(3.0, gen, ev), [OBJ], QS, tmp_path / "r.jsonl")
    c = recs[0]["couple"]
    assert c["delta"] == 2 and c["intervened"] is False  # |4-5| + |2-1|
    roles = _roles(gen)
    assert "couple.counterfactual" not in roles and "couple.final" not in roles
    # per question: raw, role, value prompts and the two attribution calls
    assert gen.calls == 2 * 5
    assert recs[0]["responses"]["couple"]["text"] == SCRIPT["generate.raw"]
    # the evaluator scores each distinct answer once: raw (= couple), role, value
    assert ev.calls == 2 * 3 * 2
    m = recs[0]["evaluation"]["couple"]["metrics"]
    assert m["mae"] == pytest.approx(0.5) and m["spearman"] == pytest.approx(1.0)


def test_intervention_when_delta_exceeds_tau(tmp_path: Path) -> None:
    gen, ev = MockBackend(SCRIPT, model_id="gen"), MockBackend(SCRIPT, model_id="ev")
    recs = run_pairs(_pipeline(1.0, gen, ev), [OBJ], QS, tmp_path / "r.jsonl")
    c = recs[0]["couple"]
    assert c["intervened"] is True
    assert [x["dimension"] for x in c["counterfactual"]] == ["Self-Direction", "Power"]
    assert c["counterfactual"][0]["concepts"] == ["people decide for themselves"]
    roles = _roles(gen)
    assert roles.count("couple.counterfactual") == 2 * 2 and roles.count("couple.final") == 2
    final_prompt = recs[0]["responses"]["couple"]["prompt"][-1]["text"]
    assert "people decide for themselves" in final_prompt and SCRIPT["generate.raw"] in final_prompt
    cf_prompt = c["counterfactual"][1]["prompt"][-1]["text"]  # Power: opposite of Universalism, etc.
    assert "Power is opposite to Universalism" in cf_prompt and "rules keep people safe" in cf_prompt


def test_option_scores_are_expected_values() -> None:
    class Half(MockBackend):
        def generate(self, requests: Any) -> list[ModelResponse]:
            out = super().generate(requests)
            return [
                r.model_copy(update={"option_logprobs": [-math.inf] * 3 + [math.log(0.5)] * 2})
                if q.options
                else r
                for q, r in zip(requests, out, strict=True)
            ]

    att = Attributor(Caller(Half(SCRIPT, logprobs=True), "a"), ["Self-Direction", "Power"])
    rec = att.attribute("q?", "an answer")
    assert att.method == "options" and rec["scores"] == {"Self-Direction": 4.5, "Power": 4.5}
    assert rec["option_probs"]["Power"] == [0.0, 0.0, 0.0, 0.5, 0.5]
    with pytest.raises(ConfigError, match="no option log-likelihoods"):
        Attributor(Caller(MockBackend(), "a"), ["Power"], mode="options")


def test_failed_answer_is_counted_not_scored(tmp_path: Path) -> None:
    gen = MockBackend(SCRIPT, model_id="gen", fail_ids=["generate.value_prompt"])
    ev = MockBackend(SCRIPT, model_id="ev")
    rec = run_pairs(_pipeline(0.0, gen, ev), [OBJ], QS[:1], tmp_path / "r.jsonl")[0]
    assert rec["responses"]["value_prompt"]["text"] is None
    m = rec["evaluation"]["value_prompt"]["metrics"]
    assert m["mae"] is None and m["n_unscored"] == 2


# ---------------------------------------------------------------- relations (§1.7.4)


def test_circumplex_relations() -> None:
    # the project's circle (values.CIRCUMPLEX): SD ST HE AC PO SE CO TR BE UN; five steps apart =
    # opposite, so SD's opposite is Security (values.opposite) and Power sits four steps from SD
    g = circumplex(SCHWARTZ10)
    assert g.relation("Self-Direction", "Stimulation") == "congruent"
    assert g.relation("Self-Direction", "Universalism") == "congruent"  # the circle closes
    assert g.relation("Self-Direction", "Security") == "opposite"
    assert g.relation("Power", "Universalism") == "opposite"
    assert g.relation("Self-Direction", "Power") == "irrelevant"
    assert g.relation("Self-Direction", "Achievement") == "irrelevant"
    assert g.related("Self-Direction") == [
        ("Stimulation", "congruent"),
        ("Security", "opposite"),
        ("Universalism", "congruent"),
    ]


def test_relations_from_a_value_graph(tmp_path: Path) -> None:
    (tmp_path / "graph").mkdir()
    edges = [["Power", "Security"], ["Security", "Power"], ["Achievement", "Power"], ["Power", "Nonsense"]]
    (tmp_path / "graph" / "graph.json").write_text(json.dumps({"values": SCHWARTZ10, "edges": edges}))
    g = load_relations("graph", SCHWARTZ10, tmp_path)
    assert g.relation("Power", "Security") == "linked"
    assert g.relation("Achievement", "Power") == "influences"
    assert g.relation("Power", "Achievement") == "influenced by"
    assert g.relation("Power", "Hedonism") == "irrelevant"
    (tmp_path / "bad.json").write_text('{"values": []}')
    with pytest.raises(ConfigError, match="'edges' is missing"):
        load_relations("bad.json", SCHWARTZ10, tmp_path)


def test_free_value_system_from_daily_dilemmas(tmp_path: Path) -> None:
    """DailyDilemmas-style value names: a free system, no relations, the same pipeline."""
    from valuespectrum.designs.couple.objectives import system_dimensions

    obj = ValueObjective(name="honest", system="dd", scores={"honesty": 5, "trust": 4, "self": 1})
    dims = system_dimensions("dd", list(obj.scores))
    graph = load_relations("none", dims)
    script = {
        **SCRIPT,
        "attribute.scores": "honesty: 5\ntrust: 4\nself: 1",
        "evaluate.scores": "Honesty: [4]\ntrust: 3",
    }
    gen, ev = MockBackend(script, model_id="gen"), MockBackend(script, model_id="ev")
    g = Caller(gen, "generator")
    pipe = Pipeline(
        g, Attributor(g, dims), Attributor(Caller(ev, "e"), dims, role="evaluate"), graph, tau=0.0
    )
    rec = run_pairs(pipe, [obj], QS[:1], tmp_path / "r.jsonl")[0]
    assert rec["couple"]["delta"] == 0 and rec["couple"]["intervened"] is False
    m = rec["evaluation"]["raw"]["metrics"]
    assert m["mae"] == pytest.approx(1.0) and m["n_unscored"] == 1 and m["spearman"] == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="relations: none"):
        load_relations("circumplex", dims)


# ---------------------------------------------------------------- objectives and questions


def test_objectives_from_yaml_and_csv(tmp_path: Path) -> None:
    objs = load_objectives(DATA / "objectives.yaml")
    assert [o.name for o in objs] == ["open-minded", "security-first", "caring"]
    assert objs[0].top_k(5) == ["Self-Direction", "Stimulation", "Universalism", "Security", "Conformity"]
    assert objs[0].top_k(2) == ["Self-Direction", "Stimulation"]  # ties in circumplex order
    assert [floor_1_6(x) for x in (1.0, 3.99, 5.7, 6.0)] == [1, 3, 5, 5]
    with pytest.raises(ValueError):
        floor_1_6(0.5)
    csv = tmp_path / "ess.csv"
    csv.write_text("name,value,score\nNL,SD,4.6\nNL,power,2.1\nNL,Security,6\n")
    (nl,) = load_objectives(csv, scale="ess6")
    assert nl.scores == {"Self-Direction": 4, "Power": 2, "Security": 5}
    with pytest.raises(ConfigError, match=r"line 2: score '4.6' must be an integer"):
        load_objectives(csv)
    csv.write_text("country,value,score\nNL,SD,4\n")
    with pytest.raises(ConfigError, match=r"missing column\(s\) \['name'\]"):
        load_objectives(csv)
    bad = tmp_path / "o.yaml"
    bad.write_text("objectives:\n  - name: x\n    scores: {Joy: 3}\n")
    with pytest.raises(ConfigError, match="unknown value 'Joy'"):
        load_objectives(bad)


def test_touche_rewrite_and_import(tmp_path: Path) -> None:
    assert opinion_question("We should ban whaling.") == ("Should we ban whaling?", "we-should")
    assert opinion_question("we should not fund X") == ("Should we not fund X?", "we-should")
    assert opinion_question("Homework should be optional") == (
        "Do you agree that homework should be optional?",
        "agree",
    )
    assert opinion_question("Is it fair?") == ("Is it fair?", "kept")
    qs = load_questions(DATA / "arguments.tsv", "touche23")
    assert [q.id for q in qs] == ["A101", "A102", "A103", "A104"]
    assert qs[1].text == "Should we not fund a crewed mission to Mars?"
    assert (
        qs[1].meta["conclusion"] == "We should not fund a crewed mission to Mars"
        and qs[1].meta["stance"] == "against"
    )
    bad = tmp_path / "arguments.tsv"
    bad.write_text("Argument ID\tConclusion\tPremise\nA1\tWe should x\tp\n")
    with pytest.raises(ConfigError, match=r"missing column\(s\) \['Stance'\]"):
        load_questions(bad, "touche23")


def test_daily_dilemmas_import(tmp_path: Path) -> None:
    csv = tmp_path / "dd.csv"
    csv.write_text(
        "dilemma_idx,dilemma_situation,action_type,action,values_aggregated\n"
        "7,A friend lies to you.,to_do,Confront the friend,\"['honesty', 'trust']\"\n"
        "7,A friend lies to you.,not_to_do,Let it go,\"['friendship']\"\n"
    )
    (q,) = load_questions(csv, "daily_dilemmas")
    assert (
        q.id == "7"
        and q.meta["to_do_values"] == ["honesty", "trust"]
        and q.meta["not_to_do_values"] == ["friendship"]
    )
    assert q.text.endswith("Action 1: Confront the friend\nAction 2: Let it go\nWhich action would you take?")
    jl = tmp_path / "dd.jsonl"
    jl.write_text(
        json.dumps(
            {"dilemma_situation": "S", "action_type": "to_do", "action": "a", "values_aggregated": ["care"]}
        )
        + "\n"
    )
    with pytest.raises(ConfigError, match="lacks its to_do or not_to_do row"):
        load_questions(jl, "daily_dilemmas")
    csv.write_text("situation,action\nx,y\n")
    with pytest.raises(
        ConfigError, match=r"missing column\(s\) \['dilemma_situation', 'action_type', 'values_aggregated'\]"
    ):
        load_questions(csv, "daily_dilemmas")


def test_calibration_against_the_labelled_file() -> None:
    script = {"evaluate.concepts": "- x", "evaluate.scores": _manifest_evaluator_scores()}
    att = Attributor(Caller(MockBackend(script), "evaluator"), SCHWARTZ10, role="evaluate")
    cal = calibrate(att, DATA / "labelled.jsonl", "schwartz10")
    # by hand (evaluator SD4 ST3 HE2 AC2 PO1 SE3 CO2 TR2 BE3 UN4): exact 0+2+3 of 15, within one 2+4+4
    assert cal["n_pairs"] == 15 and cal["n_unparsed"] == 0
    assert cal["exact"] == pytest.approx(5 / 15) and cal["within_one"] == pytest.approx(10 / 15)
    assert cal["kappa"] is not None


def _manifest_evaluator_scores() -> str:
    import yaml

    m = yaml.safe_load(MANIFEST.read_text())
    return str(m["evaluator"]["options"]["script"]["evaluate.scores"])


# ---------------------------------------------------------------- runs: determinism, resume, CLI


def _manifest(tmp_path: Path, **changes: Any) -> Path:
    import yaml

    m = yaml.safe_load(MANIFEST.read_text())
    m["objectives"]["path"] = str(DATA / "objectives.yaml")
    m["questions"]["path"] = str(DATA / "arguments.tsv")
    m["calibration"] = str(DATA / "labelled.jsonl")
    m.update(changes)
    p = tmp_path / f"m{len(list(tmp_path.glob('m*.yaml')))}.yaml"
    p.write_text(yaml.safe_dump(m, sort_keys=False))
    return p


def test_same_cache_gives_identical_records(tmp_path: Path) -> None:
    from valuespectrum.designs.couple.design import run_couple_manifest

    m = _manifest(tmp_path, cache=str(tmp_path / "shared.sqlite"))
    a = run_couple_manifest(m, out=tmp_path / "a")
    b = run_couple_manifest(m, out=tmp_path / "b")
    assert (a.folder / "records.jsonl").read_bytes() == (b.folder / "records.jsonl").read_bytes()
    assert a.summary["methods"] == b.summary["methods"]


def test_resume_from_a_torn_file_equals_a_clean_run(tmp_path: Path) -> None:
    from valuespectrum.designs.couple.design import run_couple_manifest

    m = _manifest(tmp_path, cache=False)
    clean = run_couple_manifest(m, out=tmp_path / "clean").folder / "records.jsonl"
    part = run_couple_manifest(m, out=tmp_path / "part").folder / "records.jsonl"
    lines = part.read_bytes().splitlines(keepends=True)
    part.write_bytes(b"".join(lines[:5]) + lines[5][: len(lines[5]) // 2])  # killed mid-write
    res = run_couple_manifest(m, out=tmp_path / "part")
    assert part.read_bytes() == clean.read_bytes()
    # only the 7 missing pairs were asked again (their questions' raw answers included)
    assert res.summary["calls_this_invocation"]["generator"]["generate.role_prompt"] == 7


def _vspec(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "valuespectrum", *args], capture_output=True, text=True, cwd=cwd
    )


def test_cli_runs_the_example_manifest(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = _vspec("couple", "run", str(MANIFEST), "--out", str(out), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    # evaluator scores SD4 ST3 UN4 SE3 CO2 vs open-minded 5 4 4 2 1 -> MAE 0.8, etc.; every method alike
    # here because the mock evaluator gives every answer the same scores
    assert "couple: MAE 1.067" in res.stdout and "intervened in 12 of 12 pairs" in res.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_pairs"] == 12 and summary["evaluator_is_generator"] is False
    per = summary["methods"]["raw"]["per_objective"]
    assert per["open-minded"]["mae"] == pytest.approx(0.8)
    assert summary["calls_this_invocation"]["generator"]["couple.counterfactual"] == 12 * 5
    assert summary["calibration"]["exact"] == pytest.approx(1 / 3)
    assert len((out / "records.jsonl").read_text().splitlines()) == 12
    assert "Agreement with the target profile" in (out / "report.html").read_text()
    # settings changed under the same folder: refused
    changed = _manifest(tmp_path, tau=2)
    res = _vspec("couple", "run", str(changed), "--out", str(out), cwd=tmp_path)
    assert res.returncode == 2 and "header.json differs" in res.stderr
    # the evaluator is the generator and answers garbage: warned, unparsed counted, exit 1
    import yaml

    gen = yaml.safe_load(MANIFEST.read_text())["generator"]
    bad = _manifest(tmp_path, evaluator=gen)
    res = _vspec("couple", "run", str(bad), "--out", str(tmp_path / "run2"), cwd=tmp_path)
    assert res.returncode == 1, res.stderr
    assert "the evaluator is the generator" in res.stderr and "target scores unparsed" in res.stderr
    s2 = json.loads((tmp_path / "run2" / "summary.json").read_text())
    # (the raw answer's evaluation prompts equal its attribution prompts, so the shared cache
    # answers them; the other answers get the mock's default "4", which names no value)
    assert s2["evaluator_is_generator"] is True and s2["methods"]["role_prompt"]["overall"]["mae"] is None
    assert s2["methods"]["role_prompt"]["overall"]["n_unscored_dims"] == 12 * 5


def test_bad_question_file_is_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "q.tsv"
    bad.write_text("id\tquestion\nq1\tx\n")
    res = _vspec(
        "couple",
        "run",
        str(_manifest(tmp_path, questions={"path": str(bad), "format": "touche23"})),
        "--out",
        str(tmp_path / "r"),
        cwd=tmp_path,
    )
    assert (
        res.returncode == 2
        and "missing column(s) ['Argument ID', 'Conclusion', 'Stance', 'Premise']" in res.stderr
    )
    assert not (tmp_path / "r" / "records.jsonl").exists()


def test_requests_carry_the_role_and_are_greedy() -> None:
    from valuespectrum.types import Message

    mock = MockBackend({"generate.raw": "an answer"})
    reply = Caller(mock, "generator").text("generate.raw", [Message.text("user", "q")])
    assert reply.text == "an answer"
    (req,) = mock.requests_seen
    assert req.metadata["probe_id"] == "generate.raw" and req.config.temperature == 0.0
