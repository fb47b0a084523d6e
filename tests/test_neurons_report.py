"""The value-neuron report from the CLI: locate, edit (with fluency, capability and MMLU-layout
accuracy per condition), the context ablation, then ``report``; content checks and headless Chromium."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.browser import chromium_page, needs_chromium
from tests.tiny_models import build_tiny_text_lm
from valuespectrum.cli import app
from valuespectrum.neurons.locate import NeuronSet

pytest.importorskip("torch")

ST = "Self-Transcendence:Self-Enhancement"
OC = "Openness to Change:Conservation"


def _mmlu_fixture(root: Path) -> Path:
    """Ten questions in two subjects, one solved dev question each (the standard layout)."""
    (root / "test").mkdir(parents=True)
    (root / "dev").mkdir()
    maths = [(f"{a} + {a}?", [str(2 * a - 1), str(2 * a), str(2 * a + 1), "9"], "B") for a in range(1, 6)]
    words = [
        (f"Spell word {w}", [w, w[::-1], w.upper(), "none"], "A") for w in ("cat", "dog", "sun", "sky", "sea")
    ]
    for name, rows in (("maths", maths), ("words", words)):
        lines = [",".join([f'"{q}"', *opts, ans]) for q, opts, ans in rows]
        (root / "test" / f"{name}_test.csv").write_text("\n".join(lines) + "\n")
        (root / "dev" / f"{name}_dev.csv").write_text(lines[0] + "\n")
    return root


def _run(args: list[str]) -> str:
    res = CliRunner().invoke(app, ["steer", "neurons", *args])
    assert res.exit_code == 0, res.output + repr(res.exception)
    return res.output


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("neuron-report")
    model = f"hf:{build_tiny_text_lm(family='llama')}"
    out = tmp / "neurons"
    mmlu = _mmlu_fixture(tmp / "mmlu")
    common = ["--model", model, "--dtype", "float32"]
    _run(["locate", *common, "--contrast", ST, "--contrast", "Openness:Conservation", "--k", "6", "--out", str(out),
          "--n-random", "2"])  # fmt: skip
    st_set = str(out / "self-transcendence-self-enhancement.json")
    shift_log = _run(["edit", *common, "--set", st_set, "--mode", "shift", "--gamma", "4", "--n-random", "3",
                      "--mmlu", str(mmlu), "--mmlu-k", "1", "--out", str(out / "edits" / "st-shift.json")])  # fmt: skip
    _run(["edit", *common, "--set", st_set, "--mode", "scale", "--gamma", "1", "--n-random", "2",
          "--out", str(out / "edits" / "st-scale.json")])  # fmt: skip
    ablation_log = _run(
        ["ablation", *common, "--contrast", ST, "--k", "6", "--n-random", "2", "--out", str(out)]
    )
    page = Path(_run(["report", str(out)]).strip().splitlines()[-1])
    return {"out": out, "page": page, "mmlu": mmlu, "model": model, "shift_log": shift_log,
            "ablation_log": ablation_log}  # fmt: skip


def _cells(page_html: str, caption: str) -> list[list[str]]:
    """The body rows of the table with ``caption`` as text cells."""
    m = re.search(rf"<table><caption>{re.escape(html.escape(caption))}</caption>(.*?)</table>", page_html)
    assert m, caption
    body = m.group(1).split("<tbody>")[1]
    return [
        [html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body)
    ]


def test_report_content_matches_the_run_files(built):
    out, text = built["out"], built["page"].read_text()
    st = NeuronSet.load(out / "self-transcendence-self-enhancement.json")
    oc = NeuronSet.load(out / "openness-to-change-conservation.json")
    # neurons per layer: one column per set (sorted names: Openness first), a total row
    rows = _cells(text, "selected neurons per layer")
    assert rows[-1] == ["all", "6", "6"]
    for row in rows[:-1]:
        layer = int(row[0])
        assert row[1:] == [str(oc.per_layer().get(layer, 0)), str(st.per_layer().get(layer, 0))]
    # Jaccard matrix: diagonal 1, off-diagonal the sets' overlap
    jac = _cells(text, "Jaccard overlap |A∩B| / |A∪B|")
    assert jac == [[OC, "1.0000", f"{oc.jaccard(st):.4f}"], [ST, f"{st.jaccard(oc):.4f}", "1.0000"]]
    # edit effects: the numbers of the effect files, z and the random sets' 95% range
    shift = json.loads((out / "edits" / "st-shift.json").read_text())
    (e,) = shift["effects"]
    effects = _cells(text, "edit effects against the opposite set and random sets")
    row = next(r for r in effects if r[1] == "shift")
    assert row[0] == ST and row[4] == f"{e['target']:.4f}" and row[5] == f"{e['opposite']:.4f}"
    assert row[8] == "3" and row[11] == f"{e['z']:.4f}"
    half = 4.302653 * e["random_sd"] * (1 + 1 / 3) ** 0.5  # t(0.975, 2 df): 3 random sets
    lo, hi = e["random_mean"] - half, e["random_mean"] + half
    assert row[9] == f"{lo:.4f}" and row[10] == f"{hi:.4f}"
    assert row[12] == ("within random" if lo <= e["target"] <= hi else "beyond random")
    scale = next(r for r in effects if r[1] == "scale")
    assert scale[4] == "0.0000" and scale[5] == "–"  # gamma 1 changes nothing; no opposite in scale mode
    # fluency and capability: a row per condition, random sets averaged, perplexity ratio to baseline
    qual = _cells(
        text, "fluency (perplexity of the held-out texts under the edit) and capability under each edit"
    )
    shift_rows = {r[3]: r for r in qual if r[1] == "shift"}
    assert set(shift_rows) == {"baseline", "target", "opposite", "random (mean of 3)"}
    base_q = next(q for q in shift["quality"] if q["condition"] == "baseline")
    target_q = next(q for q in shift["quality"] if q["condition"] == "target")
    assert shift_rows["target"][5] == f"{target_q['perplexity'] / base_q['perplexity']:.4f}"
    assert shift_rows["baseline"][7] == f"{base_q['mmlu']:.4f}"
    scale_rows = [r for r in qual if r[1] == "scale"]
    assert {r[4] for r in scale_rows} == {scale_rows[0][4]} and {r[5] for r in scale_rows[1:]} == {"1.0000"}
    assert all(r[7] == "–" for r in scale_rows)  # no MMLU folder given to that edit
    # context ablation, both variants
    abl = _cells(text, "context-controlled versus non-controlled location")
    assert [r[1] for r in abl] == ["controlled", "non-controlled"]
    doc = json.loads((out / "context-ablation.json").read_text())["contrasts"][0]
    assert (
        abl[0][4] == f"{doc['accuracy']['controlled']:.4f}"
        and abl[1][4] == f"{doc['accuracy']['non_controlled']:.4f}"
    )
    assert (
        f"[non_controlled]: held-out readout accuracy {doc['accuracy']['non_controlled']:.3f}"
        in built["ablation_log"]
    )


def test_mmlu_accuracy_per_condition_is_the_fixture_scored_under_each_edit(built):
    from valuespectrum.backends.registry import create_backend
    from valuespectrum.neurons.edit import edit_neurons
    from valuespectrum.steering.mmlu import evaluate_mmlu, load_mmlu

    shift = json.loads((built["out"] / "edits" / "st-shift.json").read_text())
    nset = NeuronSet.load(built["out"] / "self-transcendence-self-enhancement.json")
    qs = [q for v in load_mmlu(built["mmlu"], "test").values() for q in v]
    dev = load_mmlu(built["mmlu"], "dev")
    backend = create_backend(built["model"], dtype="float32")
    try:
        plain = evaluate_mmlu(backend, qs, dev=dev, k=1)
        with edit_neurons(backend.model, nset, "shift", 4.0):
            edited = evaluate_mmlu(backend, qs, dev=dev, k=1)
    finally:
        backend.close()
    by = {q["condition"]: q for q in shift["quality"] if q["random"] is None}
    assert plain.n == 10 and by["baseline"]["mmlu"] == plain.accuracy and by["baseline"]["mmlu_failed"] == 0
    assert by["target"]["mmlu"] == edited.accuracy
    assert "quality random #2:" in built["shift_log"]


@needs_chromium
def test_report_opens_in_chromium_with_figures_and_no_outside_requests(built, tmp_path):
    page_path: Path = built["page"]
    requests: list[str] = []
    with chromium_page(tmp_path / "profile", requests) as page:
        page.goto(page_path.as_uri(), wait_until="load")
        shown = page.eval_on_selector_all("section > h2", "els => els.map(e => e.textContent)")
        assert shown == [
            "Summary",
            "Neurons per layer",
            "Overlap between values",
            "Held-out readout",
            "Edit effects against controls",
            "Fluency and capability under each edit",
            "Context-controlled versus non-controlled",
        ]
        rows = page.eval_on_selector_all(
            "table", "els => els.map(t => t.querySelectorAll('tbody tr').length)"
        )
        assert len(rows) == 6 and all(n > 0 for n in rows), rows
        images = page.query_selector_all("img")
        assert [i.get_attribute("src") for i in images] == [
            "neurons-per-layer.png",
            "jaccard.png",
            "edit-effects.png",
        ]
        for img in images:
            assert img.evaluate("i => i.complete && i.naturalWidth > 0"), img.get_attribute("src")
            box = img.bounding_box()
            assert box is not None and box["width"] > 50 and box["height"] > 50, box
    folder = page_path.parent.resolve().as_uri()
    assert requests and all(u.startswith(folder + "/") for u in requests), requests
