"""Upstream item files read as they are: row filters, nested JSON records, (value, weight)
pairs, one query with several responses, and value names outside the Schwartz ten."""

from __future__ import annotations

from pathlib import Path

import pytest

from valuespectrum.errors import ConfigError
from valuespectrum.probes.importers import ColumnMapping, load_items
from valuespectrum.values import Value

DATA = Path(__file__).parent / "data"
UPSTREAM = DATA / "portrait_upstream.json"
#: The mapping for tests/data/portrait_upstream.json (README: "Your own items").
PORTRAIT = {
    "records_path": "data.items",
    "where": {"split": "test"},
    "responses": "responses",
    "id": "qid",
    "text": "text",
    "context": "query",
    "weight_pairs": "correlations",
    "value_map": {"Achievment": "Achievement", "Spirituality": None},
}


def _err(path: Path, mapping: dict) -> str:
    with pytest.raises(ConfigError) as exc:
        load_items(path, mapping)
    return str(exc.value)


def test_nested_json_with_filter_responses_pairs_and_value_map() -> None:
    bank = load_items(UPSTREAM, PORTRAIT)
    # q2 is in the train split; q1 has two responses, q3 three: each response is an item
    assert [p.id for p in bank.probes] == ["q1-1", "q1-2", "q3-1", "q3-2", "q3-3"]
    assert [p.keys for p in bank.probes] == [
        {Value.HEDONISM: 0.62, Value.STIMULATION: 0.45, Value.SECURITY: -0.12},  # [[name, w], ...]
        {Value.BENEVOLENCE: 0.41, Value.TRADITION: 0.33, Value.STIMULATION: -0.38},
        # [{"value", "weight"}, ...] with the misspelt "Achievment" mapped
        {Value.ACHIEVEMENT: 0.51, Value.POWER: 0.38, Value.BENEVOLENCE: -0.33},
        {Value.UNIVERSALISM: 0.44, Value.POWER: -0.41},  # {name: w}; Spirituality dropped (null)
        {Value.HEDONISM: 0.12, Value.ACHIEVEMENT: -0.35},
    ]
    assert [p.context for p in bank.probes] == ["How do you spend a free evening?"] * 2 + [
        "What matters at work?"
    ] * 3
    assert bank.probes[1].text == "I stay in and call my parents."
    # the record a response came from (JSON records count from 1) and its place in the list
    assert [(p.metadata["source_row"], p.metadata["response"]) for p in bank.probes] == [
        (1, 1), (1, 2), (3, 1), (3, 2), (3, 3),
    ]  # fmt: skip
    assert all(p.format.kind == "likert" and p.format.scale_max == 6 for p in bank.probes)


def test_unknown_value_names_are_listed_with_the_fix() -> None:
    mapping = {k: v for k, v in PORTRAIT.items() if k != "value_map"}
    msg = _err(UPSTREAM, mapping)
    assert msg.startswith(
        f"{UPSTREAM}: unknown value names 'Achievment' (column 'correlations', row 3), "
        "'Spirituality' (column 'correlations', row 3); valid values are: Self-Direction, "
    )
    assert msg.endswith(
        "fix: add value_map: {Achievment: VALUE, Spirituality: VALUE} to the column mapping, "
        "VALUE one of these or null to drop the name"
    )


def test_csv_export_filtered_by_language_with_value_map() -> None:
    mapping = {"text": "item", "value": "value", "keying": "key", "where": {"lang": "en"}}
    msg = _err(DATA / "survey_export.csv", mapping)
    # the German row 3 is filtered out; rows 4, 6 and 7 name values outside the ten
    assert msg.startswith(
        f"{DATA / 'survey_export.csv'}: unknown value names 'Honesty' (column 'value', row 4), "
        "'Traditon' (column 'value', row 6), 'Face' (column 'value', row 7)"
    )
    mapping["value_map"] = {"honesty": "Benevolence", "Traditon": "TR", "Face": None}
    bank = load_items(DATA / "survey_export.csv", mapping)
    assert [p.id for p in bank.probes] == ["2", "4", "5", "6"]  # row 7 (Face) dropped on purpose
    assert [p.keys for p in bank.probes] == [
        {Value.SELF_DIRECTION: 1.0},
        {Value.BENEVOLENCE: 1.0},
        {Value.STIMULATION: -1.0},
        {Value.TRADITION: 1.0},
    ]
    only_face = {**mapping, "where": {"item": "They follow every rule."}}
    assert _err(DATA / "survey_export.csv", only_face).endswith(
        "no usable items (1 rows named only values that value_map drops); expected at least one keyed item"
    )


def test_where_takes_a_list_and_compares_cells_as_text(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text(
        '{"text": "a", "value": "Power", "year": 2024, "ok": true}\n'
        '{"text": "b", "value": "Power", "year": 2023, "ok": true}\n'
        '{"text": "c", "value": "Power", "year": 2022, "ok": false}\n',
        encoding="utf-8",
    )
    texts = lambda where: [p.text for p in load_items(path, {"value": "value", "where": where}).probes]  # noqa: E731
    assert texts({"year": [2024, "2022"]}) == ["a", "c"]
    assert texts({"year": "2023", "ok": True}) == ["b"]
    assert _err(path, {"value": "value", "where": {"year": 1999}}) == (
        f"{path}: no row matches where {{'year': 1999}}; expected at least one (check the column values)"
    )
    assert _err(path, {"value": "value", "where": {"yr": 1999}}).startswith(f"{path}: missing column 'yr'")


def test_weight_pairs_as_json_text_in_a_csv_with_a_byte_order_mark() -> None:
    bank = load_items(DATA / "weight_pairs.csv", {"id": "id", "weight_pairs": "pairs"})
    assert [(p.id, p.keys) for p in bank.probes] == [
        ("a", {Value.TRADITION: 0.4, Value.STIMULATION: -0.31}),
        ("b", {Value.HEDONISM: 0.5}),
    ]
    # the importer's threshold drops weak pairs at load time, strictly
    thr = load_items(
        DATA / "weight_pairs.csv", {"id": "id", "weight_pairs": "pairs", "weight_threshold": 0.31}
    )
    assert [p.keys for p in thr.probes] == [{Value.TRADITION: 0.4}, {Value.HEDONISM: 0.5}]


def test_one_query_with_several_text_responses(tmp_path: Path) -> None:
    mapping = {"id": "qid", "context": "query", "value": "value", "responses": "answers"}
    bank = load_items(DATA / "query_answers.jsonl", mapping)
    assert [(p.id, p.text, p.context, p.keys) for p in bank.probes] == [
        ("q1-1", "My family.", "Who do you help first?", {Value.BENEVOLENCE: 1.0}),
        ("q1-2", "Whoever asks.", "Who do you help first?", {Value.BENEVOLENCE: 1.0}),
        ("q2-1", "A rainy day.", "What do you save for?", {Value.SECURITY: 1.0}),
    ]
    own = tmp_path / "own.jsonl"
    own.write_text(
        '{"query": "Q?", "value": "Power", "rs": [{"rid": "r7", "text": "A."}, {"rid": "r8", "text": "B."}]}\n',
        encoding="utf-8",
    )
    ids = [p.id for p in load_items(own, {"id": "rid", "value": "value", "responses": "rs"}).probes]
    assert ids == ["r7", "r8"]  # a response's own id is taken as is
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"qid": "q1", "value": "Power", "answers": []}\n', encoding="utf-8")
    assert _err(bad, mapping) == (
        f"{bad} row 1, column 'answers': no responses; expected a list of responses (texts or objects)"
    )


@pytest.mark.parametrize(
    ("content", "mapping", "error"),
    [
        ('{"data": {"rows": []}}', {"records_path": "data.items"},
         "records_path 'data.items': no key 'items' under data (found: rows)"),
        ('{"data": {"items": {"a": 1}}}', {"records_path": "data.items"},
         "records_path 'data.items' holds a JSON dict; expected a list of records"),
        ('{"items": []}', {},
         "the top level holds a JSON dict; expected a list of records; set records_path to the list"),
        ('[{"text": "a", "value": "Power"}, 3]', {}, "record 2: a JSON int; expected a JSON object"),
        ('[{"text": "a", "pairs": [["Power"]]}]', {"weight_pairs": "pairs"},
         "row 1, column 'pairs': entry 1 ['Power'] is not a (value, weight) pair"),
    ],
)  # fmt: skip
def test_bad_json_records_name_the_file_and_the_fix(
    tmp_path: Path, content: str, mapping: dict, error: str
) -> None:
    path = tmp_path / "items.json"
    path.write_text(content, encoding="utf-8")
    msg = _err(path, {"value": "value", **mapping} if "weight_pairs" not in mapping else mapping)
    assert msg.startswith(str(path)) and error in msg


def test_records_path_on_a_csv_is_refused_and_weight_columns_follow_value_map(tmp_path: Path) -> None:
    csv = tmp_path / "w.csv"
    csv.write_text("text,w_Power,w_Spirituality\na,0.4,0.9\n", encoding="utf-8")
    assert "records_path 'x' applies to .json files" in _err(
        csv, {"weight_prefix": "w_", "records_path": "x"}
    )
    assert "cannot tell which value it weights" in _err(csv, {"weight_prefix": "w_"})
    bank = load_items(csv, {"weight_prefix": "w_", "value_map": {"Spirituality": None}})
    assert bank.probes[0].keys == {Value.POWER: 0.4}
    named = ColumnMapping(weights=["w_Power", "w_Spirit"], value_map={"spirit": "UN"})
    assert named.weights == {"w_Power": Value.POWER, "w_Spirit": Value.UNIVERSALISM}
