"""The whole-file JSON and JSONL helpers that design, SAE and steering readers share."""

from __future__ import annotations

from pathlib import Path

import pytest

from valuespectrum.errors import ConfigError
from valuespectrum.tables import read_json_document, read_json_object, read_jsonl


def test_read_jsonl_numbers_lines_whatever_the_suffix(tmp_path: Path) -> None:
    f = tmp_path / "labels.txt"
    f.write_text('{"a": 1}\n\n{"a": 2}\n', encoding="utf-8")
    assert read_jsonl(f) == [(1, {"a": 1}), (3, {"a": 2})]
    f.write_text('{"a": 1}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"labels.txt line 2: a JSON list; expected a JSON object per line"):
        read_jsonl(f)
    f.write_bytes(b'{"a": "\xff"}\n')
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        read_jsonl(f)


def test_read_json_document_names_file_line_and_what_it_should_hold(tmp_path: Path) -> None:
    f = tmp_path / "graph.json"
    with pytest.raises(ConfigError, match=r"graph.json: no such file; expected the graph"):
        read_json_document(f, "the graph")
    f.write_text('{\n  "edges": [,]\n}', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"graph.json line 2: not valid JSON \(.*\); expected the graph"):
        read_json_document(f, "the graph")
    f.write_text("\ufeff[1, 2]", encoding="utf-8")
    assert read_json_document(f, "the graph") == [1, 2]
    with pytest.raises(ConfigError, match=r"graph.json: a JSON list at the top level; expected a config"):
        read_json_object(f, "a config")
    f.write_text('{"k": 2}', encoding="utf-8")
    assert read_json_object(f, "a config") == {"k": 2}
