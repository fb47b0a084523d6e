"""ConVA's published pair and test-question layout imported into the project's pair format."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from valuespectrum.cli import app
from valuespectrum.errors import ConfigError
from valuespectrum.neurons.aspects import aspect_texts, parse_contrast
from valuespectrum.steering.conva_pairs import (
    load_conva_pairs,
    load_conva_tests,
    pairs_from_source,
    read_conva_pair_file,
    write_pairs_jsonl,
)
from valuespectrum.steering.pairs import load_pairs
from valuespectrum.values import Value

ROWS = [
    ("When my neighbour fell, I stopped and helped him up.", "When my neighbour fell, I hurried past."),
    (
        "I gave my lunch to a classmate who had none.",
        "I ate my lunch and ignored the classmate who had none.",
    ),
    ("Should I lend my friend money? Yes, she needs it.", "Should I lend my friend money? No, it is mine."),
]


def _csv(path, rows=ROWS, index=True):
    head = ",question_1,question_2" if index else "question_1,question_2"
    lines = [head] + [(f"{n}," if index else "") + f'"{a}","{b}"' for n, (a, b) in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_three_row_csv_gives_three_pairs_with_empty_scenario(tmp_path):
    f = _csv(tmp_path / "benevolence_context_controlled.csv")
    pairs = read_conva_pair_file(f)
    assert len(pairs) == 3 and all(p.value is Value.BENEVOLENCE and p.scenario == "" for p in pairs)
    assert [p.id for p in pairs] == [
        "conva-benevolence-cc-1",
        "conva-benevolence-cc-2",
        "conva-benevolence-cc-3",
    ]
    assert pairs[0].render(pairs[0].positive) == ROWS[0][0]
    assert pairs[0].render(pairs[0].negative) == ROWS[0][1]


def test_json_and_jsonl_rows_and_a_folder_of_both_kinds(tmp_path):
    _csv(tmp_path / "benevolence_context_controlled.csv")
    # the earlier file names: _hard (context controlled), _easy (non-controlled)
    (tmp_path / "power_hard.json").write_text(
        json.dumps(
            [{"question_1": "I took charge of the team.", "question_2": "I let others lead the team."}]
        )
    )
    (tmp_path / "self-direction_non_context_controlled.jsonl").write_text(
        json.dumps({"question_1": "I plan my own route.", "question_2": "I follow the tour group."}) + "\n"
    )
    (tmp_path / "universalism_easy.csv").write_text(
        "question_1,question_2\nI recycle.,I throw it all away.\n"
    )
    cc = load_conva_pairs(tmp_path)
    assert [p.value for p in cc] == [Value.BENEVOLENCE] * 3 + [Value.POWER]
    ncc = load_conva_pairs(tmp_path, "non_context_controlled")
    assert {p.value for p in ncc} == {Value.SELF_DIRECTION, Value.UNIVERSALISM}
    assert all(p.id.split("-")[-2] == "ncc" for p in ncc)
    assert [p.value for p in load_conva_pairs(tmp_path, values=[Value.POWER])] == [Value.POWER]
    assert len(pairs_from_source(f"conva:{tmp_path}")) == 4
    assert len(pairs_from_source(f"conva-non-controlled:{tmp_path}")) == 2
    # the sides of a higher-order contrast are the sentences alone (pooled from character 0)
    side_a, side_b = aspect_texts(cc + cc, parse_contrast("Self-Transcendence:Self-Enhancement"))
    assert side_a[0].text == ROWS[0][0] and side_a[0].start == 0
    assert side_a[3].text == "I let others lead the team." and side_b[3].text == "I took charge of the team."


def test_errors_name_file_row_and_field(tmp_path):
    bad = tmp_path / "power_context_controlled.csv"
    bad.write_text('question_1,question_2\n"I lead.",""\n')
    with pytest.raises(
        ConfigError, match=r"power_context_controlled\.csv: row 2: field 'question_2' is empty"
    ):
        read_conva_pair_file(bad)
    bad.write_text("question_1,answer\nI lead.,x\n")
    with pytest.raises(ConfigError, match=r"row 2: field 'question_2' missing"):
        read_conva_pair_file(bad)
    bad.write_text("question_1,question_2\nI lead.,I lead.\n")
    with pytest.raises(ConfigError, match=r"row 2: fields 'question_1' and 'question_2' are identical"):
        read_conva_pair_file(bad)
    js = tmp_path / "power_hard.json"
    js.write_text('[{"question_1": "a"}, 3]')
    with pytest.raises(ConfigError, match=r"power_hard\.json: row 1: field 'question_2' missing"):
        read_conva_pair_file(js)
    jl = tmp_path / "kindness_context_controlled.jsonl"
    jl.write_text('{"question_1": "a", "question_2": "b"}\n')
    with pytest.raises(
        ConfigError, match=r"kindness_context_controlled\.jsonl: file name names no Schwartz value"
    ):
        read_conva_pair_file(jl)
    assert read_conva_pair_file(jl, value="benevolence")[0].value is Value.BENEVOLENCE
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"empty: no context_controlled pair files"):
        load_conva_pairs(tmp_path / "empty")
    with pytest.raises(ConfigError, match=r"kind 'both'"):
        load_conva_pairs(tmp_path, "both")  # type: ignore[arg-type]


def test_bad_jsonl_line_is_named(tmp_path):
    jl = tmp_path / "power_context_controlled.jsonl"
    jl.write_text('{"question_1": "a", "question_2": "b"}\n{"question_1": "c"\n')
    with pytest.raises(ConfigError, match=r"power_context_controlled\.jsonl.*line 2"):
        read_conva_pair_file(jl)


def test_test_questions_and_round_trip_into_the_pair_layout(tmp_path):
    (tmp_path / "test_power_new.csv").write_text(
        'text\n"Should Abigail choose a promotion instead of time with her family?"\n"Should Ben run for mayor?"\n'
    )
    (tmp_path / "test_tradition_new.jsonl").write_text(
        json.dumps({"text": "Should Cara keep the old rites?"}) + "\n"
    )
    qs = load_conva_tests(tmp_path)
    assert [(q.value, q.id) for q in qs] == [
        (Value.POWER, "conva-test-power-1"),
        (Value.POWER, "conva-test-power-2"),
        (Value.TRADITION, "conva-test-tradition-1"),
    ]
    assert qs[1].text == "Should Ben run for mayor?"
    (tmp_path / "test_power_new.csv").write_text('question\n"x"\n')
    with pytest.raises(ConfigError, match=r"test_power_new\.csv: row 2: field 'text' missing"):
        load_conva_tests(tmp_path)

    pairs = read_conva_pair_file(_csv(tmp_path / "benevolence_context_controlled.csv", index=False))
    out = write_pairs_jsonl(pairs, tmp_path / "out" / "pairs.jsonl")
    back = load_pairs(out)
    assert back == pairs


def test_import_conva_cli_writes_a_pair_file_for_pairs_options(tmp_path):
    _csv(tmp_path / "benevolence_context_controlled.csv")
    _csv(tmp_path / "power_context_controlled.csv")
    res = CliRunner().invoke(
        app, ["steer", "neurons", "import-conva", str(tmp_path), "--out", str(tmp_path / "p.jsonl")]
    )
    assert res.exit_code == 0, res.output
    assert "6 pairs (Benevolence 3, Power 3)" in res.output
    rows = [json.loads(x) for x in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert rows[0] == {
        "id": "conva-benevolence-cc-1",
        "value": "Benevolence",
        "scenario": "",
        "positive": ROWS[0][0],
        "negative": ROWS[0][1],
    }


def test_one_file_of_the_other_kind_or_value_is_refused(tmp_path):
    f = tmp_path / "benevolence_context_controlled.csv"
    f.write_text("question_1,question_2\nI help.,I ignore.\n")
    assert len(load_conva_pairs(f, "context_controlled")) == 1
    with pytest.raises(ConfigError, match=r"a context_controlled file, but non_context_controlled pairs"):
        load_conva_pairs(f, "non_context_controlled")
    with pytest.raises(ConfigError, match=r"no pairs of Power"):
        load_conva_pairs(f, "context_controlled", values=[Value.POWER])
