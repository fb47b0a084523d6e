from valuespectrum.runs.jsonl import JsonlWriter, read_jsonl, repair_tail


def test_torn_tail_is_cut_and_appends_continue(tmp_path) -> None:
    p = tmp_path / "r.jsonl"
    with JsonlWriter(p) as w:
        w.write_many([{"a": 1}, {"a": 2}])
    with open(p, "a", encoding="utf-8") as fh:
        fh.write('{"a": 3, "tor')
    assert [r["a"] for r in read_jsonl(p)] == [1, 2]
    assert repair_tail(p) == len('{"a": 3, "tor')
    with JsonlWriter(p) as w:
        w.write({"a": 3})
    assert [r["a"] for r in read_jsonl(p)] == [1, 2, 3]


def test_repair_single_torn_line(tmp_path) -> None:
    p = tmp_path / "r.jsonl"
    p.write_text('{"x"', encoding="utf-8")
    assert repair_tail(p) == 4 and p.read_text() == ""
