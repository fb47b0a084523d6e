"""Value-Spectrum VQA runs on the real demo corpus (tiny random encoder) with the mock model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from valuespectrum.backends.mock import MockBackend
from valuespectrum.errors import MediaChangedError
from valuespectrum.manifest import parse_manifest
from valuespectrum.probes.probe_set import load_probe_set, save_probe_set
from valuespectrum.runs.execute import execute_run
from valuespectrum.runs.score import score_run
from valuespectrum.types import ImagePart, ModelRequest, VideoPart
from valuespectrum.values import CIRCUMPLEX


def likes_power(req: ModelRequest) -> str:
    return "Yes, it shows status." if "-PO-" in req.metadata["probe_id"] else "No."


def manifest(tmp_path: Path, data: Path, **over: object):
    raw = {
        "name": "vqa",
        "models": [{"spec": "mock", "label": "m"}],
        "probes": {"banks": [], "from_index": {"data_dir": str(data), "per_value": 1}},
        "personas": ["none"],
        "modalities": ["vision", "text"],
        "scoring": {"n_boot": 100},
        "cache": False,
    }
    raw.update(over)
    return parse_manifest(raw)


def test_like_rates_and_modality_gap(tmp_path: Path, demo_index: Path) -> None:
    backend = MockBackend(likes_power)
    outcome = execute_run(
        manifest(tmp_path, demo_index), out=tmp_path / "run", backend_factory=lambda *a: backend
    )
    summary = score_run(outcome.folder)
    vision = next(g for g in summary["groups"] if g["modality"] == "vision")
    text = next(g for g in summary["groups"] if g["modality"] == "text")
    assert vision["profile"]["like_rate"]["Power"] == pytest.approx(100.0)
    assert vision["profile"]["like_rate"]["Tradition"] == pytest.approx(0.0)
    # vision requests carry the frames; text requests carry only the caption
    vision_req = next(r for r in backend.requests_seen if r.request_id.endswith("|vision"))
    text_req = next(r for r in backend.requests_seen if r.request_id.endswith("|text"))
    assert any(isinstance(p, VideoPart | ImagePart) for p in vision_req.messages[-1].content)
    assert not text_req.messages[-1].media()
    assert "Content description:" in text_req.messages[-1].plain_text()
    assert text["profile"]["like_rate"]["Power"] == pytest.approx(100.0)
    gap = summary["modality_gap"][0]
    assert gap["vision_minus_text"]["Power"] == pytest.approx(0.0) and gap["measure"] == "like_rate"
    # reports keep the two modalities of one model apart
    from valuespectrum.reports.loading import load_item_scores, load_run

    assert sorted(g.model for g in load_run(outcome.folder.root).groups) == ["m [text]", "m [vision]"]
    items = load_item_scores(outcome.folder.root)
    assert set(items) == {("m [text]", "none"), ("m [vision]", "none")}
    # each of the 10 probes: 2 label orders, one item each, in each modality
    assert all(sum(n for _, n in cell.values()) == 2 for g in items.values() for cell in g.values())


def test_isq_style_answers_are_read_from_json(tmp_path: Path, demo_index: Path) -> None:
    def isq(req: ModelRequest) -> str:
        assert req.options is None  # JSON styles are not scored by option likelihood
        ans = "Yes" if "-UN-" in req.metadata["probe_id"] else "No"
        ratings = '"visual_appeal": 7, "curiosity": 5, "emotional_engagement": 6, "value_expectation": 4'
        return f'{{{ratings}, "answer": "{ans}"}}'

    m = manifest(tmp_path, demo_index, prompt_style="isq", modalities=["vision"], personas=["trait-activist"])
    outcome = execute_run(m, out=tmp_path / "run", backend_factory=lambda *a: MockBackend(isq))
    g = score_run(outcome.folder)["groups"][0]
    assert g["n_unparsed"] == 0
    assert g["profile"]["like_rate"]["Universalism"] == pytest.approx(100.0)
    assert g["profile"]["like_rate"]["Power"] == pytest.approx(0.0)


def test_probe_set_with_changed_media_is_refused(tmp_path: Path, demo_index: Path) -> None:
    from ingestion.config import IndexConfig
    from ingestion.probe_sets import ProbeSetSpec, build_probe_set

    cfg = IndexConfig(corpus_root=demo_index, data_dir=demo_index, progress=False)
    bank = build_probe_set(cfg, ProbeSetSpec(per_value=1, frames="middle"))
    assert len(bank.probes) == 10 and all(len(p.media) == 1 for p in bank.probes)
    assert len({p.metadata["video_id"] for p in bank.probes}) == 10  # de-duplicated across values
    # frames copied next to the probe set so this test can change one without touching the index
    import shutil

    copies = []
    for p in bank.probes:
        dst = tmp_path / "frames" / f"{p.id}.jpg"
        dst.parent.mkdir(exist_ok=True)
        shutil.copy(p.media[0].path, dst)
        copies.append(p.model_copy(update={"media": [p.media[0].model_copy(update={"path": str(dst)})]}))
    path = save_probe_set(bank.model_copy(update={"probes": copies}), tmp_path / "set.jsonl")
    assert len(load_probe_set(path).probes) == 10
    with open(tmp_path / "frames" / f"{copies[3].id}.jpg", "ab") as fh:
        fh.write(b"changed")
    with pytest.raises(MediaChangedError, match="media changed since the probe set was built"):
        load_probe_set(path)


def persona_sensitive(req: ModelRequest) -> str:
    """Under the power persona: yes to Power items only; otherwise: yes to Tradition only."""
    system = req.messages[0].plain_text() if req.messages[0].role == "system" else ""
    liked = "-PO-" if "status, wealth and influence" in system else "-TR-"
    return "Yes" if liked in req.metadata["probe_id"] else "No"


def test_persona_steerability_in_summary(tmp_path: Path, demo_index: Path) -> None:
    m = manifest(
        tmp_path, demo_index, modalities=["vision"], personas=["none", "value-power", "value-universalism"]
    )
    outcome = execute_run(m, out=tmp_path / "run", backend_factory=lambda *a: MockBackend(persona_sensitive))
    summary = score_run(outcome.folder)
    effects = {p["persona"]: p for p in summary["steerability"]["personas"]}
    power = effects["value-power"]
    # like-rates: none = Tradition 100, rest 0; value-power = Power 100, rest 0
    assert power["measure"] == "like_rate"
    assert power["changes"]["Power"] == pytest.approx(100.0)
    assert power["changes"]["Tradition"] == pytest.approx(-100.0)
    assert all(power["changes"][v] == 0.0 for v in power["changes"] if v not in ("Power", "Tradition"))
    # Power first; eight values tie on 0 (ranks 2..9 -> 5.5); Tradition last
    assert power["target_ranks"] == {"Power": 1.0}
    assert power["mean_target_rank"] == 1.0 and power["target_moved_most"] is True
    # the universalism persona answers exactly as no persona: all ten changes tie (rank 5.5)
    uni = effects["value-universalism"]
    assert set(uni["changes"].values()) == {0.0}
    assert uni["mean_target_rank"] == 5.5 and uni["target_moved_most"] is False
    (overview,) = summary["steerability"]["overview"]
    assert overview["mean_target_rank"] == pytest.approx((1.0 + 5.5) / 2)
    assert overview["share_target_moved_most"] == 0.5
    assert overview["chance_mean_target_rank"] == 5.5
    # rank order and reference agreement recorded per group
    none = next(g for g in summary["groups"] if g["persona"] == "none")
    assert none["rank_order"][0] == ["Tradition"] and len(none["rank_order"][1]) == 9  # the rest tie at 0
    assert set(none["references"]) >= {"pan-cultural", "human-pvq21"}
    assert any(name.startswith("paper:") for name in none["references"])


def test_several_models_give_one_comparison_table(tmp_path: Path, demo_index: Path) -> None:
    import csv

    def likes(value_code: str):
        return lambda req: "Yes" if value_code in req.metadata["probe_id"] else "No"

    m = manifest(
        tmp_path,
        demo_index,
        models=[
            {"spec": "mock", "label": "a", "options": {"likes": "-PO-"}},
            {"spec": "mock", "label": "b", "options": {"likes": "-UN-"}},
        ],
        modalities=["vision", "text"],
    )
    outcome = execute_run(
        m,
        out=tmp_path / "run",
        backend_factory=lambda spec, opts, cache: MockBackend(likes(str(opts["likes"]))),
    )
    summary = score_run(outcome.folder)
    assert summary["models"] == ["a", "b"]
    with open(outcome.folder.comparison_csv, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["model"], r["modality"]) for r in rows] == [
        ("a", "text"),
        ("b", "text"),
        ("a", "vision"),
        ("b", "vision"),
    ]
    a_vision = rows[2]
    assert float(a_vision["Power"]) == 100.0 and float(a_vision["Universalism"]) == 0.0
    assert a_vision["rank_order"] == "Power > " + " = ".join(
        v.value for v in CIRCUMPLEX if v.value != "Power"
    )
    # spread: population SD of nine 0s and one 100 = 30
    assert float(a_vision["spread"]) == pytest.approx(30.0)
    pairs = {(p["modality"], p["model_a"], p["model_b"]): p for p in summary["model_agreement"]}
    assert set(pairs) == {("text", "a", "b"), ("vision", "a", "b")}
    # a: one 100 at Power, b: one 100 at Universalism; ranks with ties -> rho = -1/9
    assert pairs[("vision", "a", "b")]["rho"] == pytest.approx(-1 / 9)
    assert pairs[("vision", "a", "b")]["mean_abs_diff"] == pytest.approx(20.0)


def test_text_modality_from_model_written_descriptions(tmp_path: Path, demo_index: Path) -> None:
    describer = MockBackend(lambda req: f"A scene about {req.metadata['probe_id'].split('-')[1]}.")
    answerer = MockBackend(
        lambda req: "Yes" if "A scene about PO." in req.messages[-1].plain_text() else "No"
    )

    def factory(spec: str, opts: dict[str, object], label: str | None) -> MockBackend:
        return describer if opts.get("role") == "describer" else answerer

    probes = {
        "banks": [],
        "from_index": {"data_dir": str(demo_index), "per_value": 1},
        "describe": {"spec": "mock", "options": {"role": "describer"}},
    }
    m = manifest(tmp_path, demo_index, probes=probes, modalities=["vision", "text"])
    outcome = execute_run(m, out=tmp_path / "run", backend_factory=factory)
    # the describer saw each item's frames once, with the describe prompt
    assert len(describer.requests_seen) == 10
    assert all(r.messages[0].media() for r in describer.requests_seen)
    text_reqs = [r for r in answerer.requests_seen if r.request_id.endswith("|text")]
    assert text_reqs and all(
        "Content description: A scene about" in r.messages[-1].plain_text() for r in text_reqs
    )
    summary = score_run(outcome.folder)
    text = next(g for g in summary["groups"] if g["modality"] == "text")
    vision = next(g for g in summary["groups"] if g["modality"] == "vision")
    assert text["profile"]["like_rate"]["Power"] == 100.0
    assert vision["profile"]["like_rate"]["Power"] == 0.0  # vision requests carry no description
    from valuespectrum.runs.jsonl import read_jsonl

    stored = list(read_jsonl(outcome.folder.probes))
    assert len(stored) == 10 and all(p["metadata"]["description_model"] == describer.model_id for p in stored)
    # a resumed run reuses the stored descriptions: no describer call, nothing re-asked
    again = execute_run(m, out=tmp_path / "run", backend_factory=factory)
    assert len(describer.requests_seen) == 10 and again.n_new == 0


def test_modality_gap_is_vision_minus_text(tmp_path: Path, demo_index: Path) -> None:
    # Power items liked only when the frames are seen, Tradition items only from the caption:
    # the gap (vision - text) is +100 for Power, -100 for Tradition, 0 elsewhere.
    def by_modality(req: ModelRequest) -> str:
        pid, vision = req.metadata["probe_id"], req.request_id.endswith("|vision")
        if "-PO-" in pid:
            return "Yes." if vision else "No."
        if "-TR-" in pid:
            return "No." if vision else "Yes."
        return "Yes."

    outcome = execute_run(
        manifest(tmp_path, demo_index),
        out=tmp_path / "run",
        backend_factory=lambda *a: MockBackend(by_modality),
    )
    (gap,) = score_run(outcome.folder)["modality_gap"]
    diff = gap["vision_minus_text"]
    assert diff["Power"] == pytest.approx(100.0) and diff["Tradition"] == pytest.approx(-100.0)
    assert all(
        diff[v.value] == pytest.approx(0.0) for v in CIRCUMPLEX if v.value not in ("Power", "Tradition")
    )
    assert gap["mean_abs_gap"] == pytest.approx(20.0)  # (100 + 100) / 10 values


def test_report_says_which_tagger_chose_the_items(tmp_path: Path, demo_index: Path) -> None:
    from valuespectrum.reports.build import build_report

    outcome = execute_run(
        manifest(tmp_path, demo_index),
        out=tmp_path / "run",
        backend_factory=lambda *a: MockBackend(likes_power),
    )
    score_run(outcome.folder)
    chosen = {
        json.loads(line)["metadata"]["tagged_by"]
        for line in outcome.folder.probes.read_text(encoding="utf-8").splitlines()
    }
    assert len(chosen) == 1 and next(iter(chosen)).startswith("image tags")  # the fixture has no text tags
    res = build_report(outcome.folder.root)
    assert "item-sources" in res.sections
    html = res.html.read_text(encoding="utf-8")
    assert "How the items were chosen" in html and next(iter(chosen)) in html
