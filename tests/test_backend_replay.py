"""The replay backend: recorded answers scored by the same code as a live run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from valuespectrum.backends.mock import MockBackend
from valuespectrum.backends.registry import create_backend, list_backends
from valuespectrum.backends.replay import ReplayBackend
from valuespectrum.errors import ConfigError
from valuespectrum.manifest import parse_manifest
from valuespectrum.probes.render import render_probe
from valuespectrum.probes.schema import AnswerFormat, Probe
from valuespectrum.runs.execute import execute_run
from valuespectrum.runs.score import score_run
from valuespectrum.types import ModelRequest


def scripted(req: ModelRequest) -> str:
    """A different answer per item, persona and label order (given as the model would write it)."""
    pid, persona, rev = req.metadata["probe_id"], req.metadata["persona"], req.metadata["reverse_labels"]
    rating = (sum(map(ord, pid)) + (2 if persona != "none" else 0)) % 6 + 1
    return (
        f"{7 - rating if rev else rating}"
        if pid.endswith("1")
        else f"I'd say {rating if not rev else 7 - rating}."
    )


def manifest(spec: str):
    return parse_manifest(
        {
            "name": "replay",
            "models": [{"spec": spec, "label": "m"}],
            "probes": {
                "banks": ["portrait"],
                "values": ["Power", "Universalism", "Tradition"],
                "limit_per_value": 2,
            },
            "personas": ["none", "value-power"],
            "controls": {"reverse_labels": True},
            "scoring": {"n_boot": 200},
            "cache": False,
        }
    )


def _answer_file(path: Path, requests: list[ModelRequest]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["item_id", "persona", "order", "answer"])
        for req in requests:
            w.writerow(
                [
                    req.metadata["probe_id"],
                    req.metadata["persona"],
                    "rev" if req.metadata["reverse_labels"] else "fwd",
                    scripted(req),
                ]
            )
    return path


#: What a replayed run folder may differ in from the live one, and why: the folder records which
#: backend answered. header.json: ``created`` (the clock), ``manifest_digest`` and
#: ``answer_identity`` (digests of the manifest, whose model spec differs); manifest.yaml: the
#: model's ``spec``; responses.jsonl: ``model_id`` (record and response) and ``request_key``
#: (the cache key holds the model id). Everything scoring writes is byte-equal.
HEADER_FIELDS = {"created", "manifest_digest", "answer_identity"}
RECORD_FIELDS = {"model_id", "request_key"}


def test_replay_of_a_six_item_answer_file_equals_the_scripted_run(tmp_path: Path) -> None:
    mock = MockBackend(scripted)
    live = execute_run(manifest("mock"), out=tmp_path / "live", backend_factory=lambda *a: mock)
    live_summary = score_run(live.folder)
    probes = {r.metadata["probe_id"] for r in mock.requests_seen}
    assert len(probes) == 6 and live.n_requests == 24  # 6 items x 2 personas x 2 orders
    assert (
        live_summary["n_unparsed"] == 0 and len({x["answer"]["value"] for x in _read(live.folder.scores)}) > 2
    )
    answers = _answer_file(tmp_path / "answers.csv", mock.requests_seen)
    replayed = execute_run(manifest(f"replay:{answers}"), out=tmp_path / "replayed")
    replay_summary = score_run(replayed.folder)
    assert replayed.n_failed == 0 and replay_summary["n_unparsed"] == live_summary["n_unparsed"]
    assert replay_summary["groups"] == live_summary["groups"]

    a, b = live.folder.root, replayed.folder.root
    written = sorted(p.name for p in a.iterdir())
    assert written == sorted(p.name for p in b.iterdir())
    differ = {"header.json", "manifest.yaml", "responses.jsonl"}
    for name in sorted(set(written) - differ):  # scores, summaries, probes, personas
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert {"scores.jsonl", "summary.json", "summary.csv"} <= set(written) - differ

    head_a, head_b = (json.loads((f / "header.json").read_text(encoding="utf-8")) for f in (a, b))
    assert {k for k in head_a.keys() | head_b.keys() if head_a.get(k) != head_b.get(k)} <= HEADER_FIELDS
    assert {k: v for k, v in head_a.items() if k not in HEADER_FIELDS} == {
        k: v for k, v in head_b.items() if k not in HEADER_FIELDS
    }
    man_a, man_b = (yaml.safe_load((f / "manifest.yaml").read_text(encoding="utf-8")) for f in (a, b))
    assert man_b["models"][0]["spec"] == f"replay:{answers}"
    man_b["models"][0]["spec"] = "mock"
    assert man_a == man_b
    recs_a, recs_b = _read(a / "responses.jsonl"), _read(b / "responses.jsonl")
    assert len(recs_a) == len(recs_b) == 24
    for ra, rb in zip(recs_a, recs_b, strict=True):
        assert (ra["model_id"], rb["model_id"]) == ("mock", "replay:answers.csv")
        assert ra["response"].pop("model_id") == "mock" and rb["response"].pop("model_id")
        assert {k: v for k, v in ra.items() if k not in RECORD_FIELDS} == {
            k: v for k, v in rb.items() if k not in RECORD_FIELDS
        }


def test_a_run_with_unmatched_answers_stops_listing_them(tmp_path: Path) -> None:
    mock = MockBackend(scripted)
    execute_run(manifest("mock"), out=tmp_path / "live", backend_factory=lambda *a: mock)
    kept = [
        r
        for r in mock.requests_seen
        if not (r.metadata["probe_id"] == "portrait-PO-01" and r.metadata["persona"] == "value-power")
    ]
    answers = _answer_file(tmp_path / "answers.csv", kept)
    run = parse_manifest(
        {**manifest("mock").model_dump(mode="json"), "models": [{"spec": f"replay:{answers}", "label": "m"}]}
    )
    with pytest.raises(ConfigError) as exc:
        # one request per batch: the gaps are still listed together, before anything is asked
        execute_run(run.model_copy(update={"batch_size": 1}), out=tmp_path / "replayed")
    assert str(exc.value) == (
        f"{answers}: no recorded answer for 2 request(s): "
        "item 'portrait-PO-01', persona 'value-power', order 'fwd'; "
        "item 'portrait-PO-01', persona 'value-power', order 'rev'; "
        "add rows for them or leave these items out of the run"
    )
    assert not (tmp_path / "replayed" / "responses.jsonl").exists()


def test_answer_files_with_a_byte_order_mark_and_numeric_answers(tmp_path: Path) -> None:
    bom = tmp_path / "a.csv"
    bom.write_bytes('\ufeffitem_id,order,answer\np1,fwd,5\np1,rev,"I\'d say 2, really"\n'.encode())
    backend = ReplayBackend(bom)
    assert backend.key_columns == ("order",)
    fwd, rev = render_probe(PROBE).request, render_probe(PROBE, reverse_labels=True).request
    assert [r.text for r in backend.generate([fwd, rev])] == ["5", "I'd say 2, really"]
    jl = tmp_path / "a.jsonl"
    jl.write_bytes('\ufeff{"item_id": "p1", "answer": 4}\n'.encode())
    assert [r.text for r in ReplayBackend(jl).generate([fwd])] == ["4"]


def _read(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


PROBE = Probe(id="p1", text="A portrait.", format=AnswerFormat.likert6(), keys={"PO": 1})


def test_keys_use_only_the_columns_the_file_has(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"probe_id": "p1", "text": "5"}\n\n{"probe_id": "p2", "text": "2"}\n', encoding="utf-8")
    backend = create_backend(f"replay:{path}")
    assert "replay" in list_backends() and isinstance(backend, ReplayBackend)
    assert backend.key_columns == () and not backend.supports_option_logprobs
    fwd, rev = render_probe(PROBE).request, render_probe(PROBE, "value-power", reverse_labels=True).request
    assert [r.text for r in backend.generate([fwd, rev])] == ["5", "5"]  # no persona/order columns
    assert backend.model_id == "replay:a.jsonl" and backend.revision and len(backend.revision) == 16


def test_unmatched_requests_are_an_error_listing_them(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("item_id,order,answer\np1,fwd,5\n", encoding="utf-8")
    backend = ReplayBackend(path)
    other = Probe(id="p9", text="x", format=AnswerFormat.likert6(), keys={"PO": 1})
    with pytest.raises(ConfigError) as exc:
        backend.generate([render_probe(PROBE).request, render_probe(PROBE, reverse_labels=True).request,
                          render_probe(other).request])  # fmt: skip
    msg = str(exc.value)
    assert msg.startswith(f"{path}: no recorded answer for 2 request(s): ")
    assert "item 'p1', order 'rev'; item 'p9', order 'fwd'" in msg


@pytest.mark.parametrize(
    ("content", "name", "error"),
    [
        ("item_id,answer\np1,5\np1,6\n", "a.csv", "row 2: a second answer for item 'p1'; keep one"),
        ("id,answer\np1,5\n", "a.csv", "no item id column; expected one of item_id, probe_id"),
        ("item_id,rating\np1,5\n", "a.csv", "no answer column; expected one of answer, text, response"),
        ("item_id,answer\n,5\n", "a.csv", "row 1: column 'item_id' is empty"),
        ('{"item_id": "p1"\n', "a.jsonl", "line 1: not valid JSON"),
        ("item_id,answer\n", "a.csv", "no answers"),
        ("x", "a.txt", "unknown answer file type '.txt'"),
    ],
)
def test_bad_answer_files_name_the_file_and_the_fix(
    tmp_path: Path, content: str, name: str, error: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match="^" + str(path).replace("\\", "\\\\")) as exc:
        ReplayBackend(path)
    assert error in str(exc.value)


def test_missing_file_and_bad_spec(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="replay answer file not found"):
        create_backend(f"replay:{tmp_path / 'none.csv'}")
    with pytest.raises(ConfigError, match="name the answer file"):
        create_backend("replay")
    (tmp_path / "a.csv").write_text("item_id,answer\np1,5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown options"):
        create_backend(f"replay:{tmp_path / 'a.csv'}", default="4")


def test_variant_column_tells_vision_from_text_answers(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("item_id,variant,answer\np1,vision,Yes.\np1,text,No.\n", encoding="utf-8")
    backend = ReplayBackend(path)
    base = render_probe(PROBE).request
    # run request ids are MODEL|PERSONA|ITEM|ORDER|VARIANT (see runs.records.record_id)
    vision = base.model_copy(update={"request_id": "m|none|p1|fwd|vision"})
    text = base.model_copy(update={"request_id": "m|none|p1|fwd|text"})
    assert [r.text for r in backend.generate([vision, text])] == ["Yes.", "No."]
    assert [r.request_id for r in backend.generate([text])] == ["m|none|p1|fwd|text"]


def test_json_and_parquet_answer_files(tmp_path: Path) -> None:
    import pandas as pd

    fwd, rev = render_probe(PROBE).request, render_probe(PROBE, reverse_labels=True).request
    js = tmp_path / "a.json"
    js.write_text(
        '[{"item_id": "p1", "order": "fwd", "answer": "3"}, {"item_id": "p1", "order": "rev", "answer": 4}]'
    )
    assert [r.text for r in ReplayBackend(js).generate([fwd, rev])] == ["3", "4"]
    pq = tmp_path / "a.parquet"
    pd.DataFrame({"item_id": ["p1", "p1"], "order": ["fwd", "rev"], "answer": [6, 1]}).to_parquet(
        pq, index=False
    )
    assert [r.text for r in ReplayBackend(pq).generate([rev, fwd])] == ["1", "6"]
