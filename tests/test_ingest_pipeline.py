"""End-to-end indexing into an embedded Chroma: bad files, idempotence, resume, mismatch, search, stats."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from index_dump import assert_same_index, dump_store
from media import (
    make_corrupt,
    make_empty,
    make_text,
    make_truncated,
    make_video,
    tiny_encoder_factory,
)

from ingestion.config import IndexConfig
from ingestion.pipeline import IndexReport, index_corpus
from ingestion.query import corpus_stats, open_index, search_embedding, search_image, search_text
from ingestion.records import VideoRecord
from ingestion.store import ChromaStore, EncoderMismatchError
from ingestion.value_tags import VALUES, flag_key, score_key

CAPTION_B = "a marching band plays at the harvest festival"


def build_corpus(root: Path) -> None:
    for i, name in enumerate(["a", "b", "c", "d"]):
        make_video(root / f"{name}.mp4", seed=i)
    (root / "a.info.json").write_text(
        json.dumps(
            {"title": "Alpha clip", "tags": ["one"], "extractor_key": "TikTok", "upload_date": "20240102"}
        )
    )
    (root / "b.info.json").write_text(json.dumps({"title": "Beta", "extractor_key": "Instagram"}))
    (root / "b.vtt").write_text(f"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n{CAPTION_B}\n")
    (root / "nested").mkdir()
    make_corrupt(root / "nested" / "corrupt.mp4")
    make_truncated(root / "truncated.mp4", root / "a.mp4")
    make_empty(root / "empty.webm")
    make_text(root / "notes.mov")
    shutil.copyfile(root / "c.mp4", root / "zz_copy_of_c.mp4")


def config(root: Path, data: Path, **kw: Any) -> IndexConfig:
    return IndexConfig(corpus_root=root, data_dir=data, model="vspec-tiny-clip", progress=False, **kw)


def dump(cfg: IndexConfig) -> dict[str, Any]:
    """Everything stored, per collection: ids, metadata and embeddings (sorted by id)."""
    enc = tiny_encoder_factory()
    return dump_store(ChromaStore(enc.id, enc.dim, path=cfg.chroma_path, prefix=cfg.collection_prefix))


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[IndexConfig, IndexReport]:
    base = tmp_path_factory.mktemp("ingest")
    build_corpus(base / "corpus")
    cfg = config(base / "corpus", base / "data", batch_size=32)
    return cfg, index_corpus(cfg, encoder=tiny_encoder_factory())


def test_bad_files_are_skipped_with_reasons(indexed: tuple[IndexConfig, IndexReport]) -> None:
    _, report = indexed
    assert sorted(o.path for o in report.indexed) == ["a.mp4", "b.mp4", "c.mp4", "d.mp4"]
    skipped = {o.path: o.reason for o in report.skipped}
    assert set(skipped) == {
        "nested/corrupt.mp4",
        "truncated.mp4",
        "empty.webm",
        "notes.mov",
        "zz_copy_of_c.mp4",
    }
    assert skipped["empty.webm"] == "empty file (0 bytes)"
    for name in ("nested/corrupt.mp4", "truncated.mp4", "notes.mov"):
        assert skipped[name].startswith("not a readable video (decord:") and "opencv:" in skipped[name]
    assert skipped["zz_copy_of_c.mp4"] == "duplicate of c.mp4"
    assert report.failed == []
    assert report.frames_written == 4 * 8


def test_stored_contents(indexed: tuple[IndexConfig, IndexReport]) -> None:
    cfg, _ = indexed
    d = dump(cfg)
    ids, metas, emb = d["frames"]
    assert len(ids) == 32 and emb.shape == (32, 64)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    vids, vmetas, vemb = d["videos"]
    assert len(vids) == 4 and all(len(v) == 16 for v in vids)
    by_path = {m["path"]: m for m in vmetas}
    a, b = by_path["a.mp4"], by_path["b.mp4"]
    assert (a["platform"], a["upload_date"], a["title"]) == ("tiktok", "2024-01-02", "Alpha clip")
    assert b["platform"] == "instagram_reels" and by_path["c.mp4"]["platform"] == "other"
    # 16 frames at 8 fps, 8 uniform samples at segment centres 1, 3, ..., 15
    a_frames = sorted((m for m in metas if m["video_id"] == a["video_id"]), key=lambda m: m["frame_no"])
    assert [m["frame_index"] for m in a_frames] == [1, 3, 5, 7, 9, 11, 13, 15]
    assert [m["t_s"] for m in a_frames] == [0.125, 0.375, 0.625, 0.875, 1.125, 1.375, 1.625, 1.875]
    assert a["duration_s"] == pytest.approx(2.0)
    for m in a_frames:
        assert (cfg.data_dir / m["thumb"]).is_file()
    # pooled video embedding = normalised mean of its frame embeddings
    a_rows = emb[[i for i, m in enumerate(metas) if m["video_id"] == a["video_id"]]]
    pooled = a_rows.mean(axis=0)
    assert np.allclose(vemb[vids.index(a["video_id"])], pooled / np.linalg.norm(pooled), atol=1e-5)
    # flags are the two highest value scores, and agree with top_values
    for m in vmetas:
        scores = [m[score_key(v)] for v in VALUES]
        top2 = [VALUES[i].value for i in np.argsort(scores)[::-1][:2]]
        assert m["top_values"] == ",".join(top2)
        assert sum(m[flag_key(v)] for v in VALUES) == 2
    # captions: b has subtitles, a falls back to its title, c and d have none
    _, cmetas, _ = d["captions"]
    assert sorted(m["path"] for m in cmetas) == ["a.mp4", "b.mp4"]


def test_reindex_is_idempotent(indexed: tuple[IndexConfig, IndexReport]) -> None:
    cfg, _ = indexed
    before = dump(cfg)
    again = index_corpus(cfg, encoder=tiny_encoder_factory())
    assert again.indexed == [] and len(again.unchanged) == 4
    after = dump(cfg)
    for kind in before:
        assert before[kind][0] == after[kind][0]
        assert before[kind][1] == after[kind][1]
        assert np.array_equal(before[kind][2], after[kind][2])


class Interrupt(Exception):
    pass


def test_resume_after_interruption_matches_clean_run(
    indexed: tuple[IndexConfig, IndexReport], tmp_path: Path
) -> None:
    clean_cfg, _ = indexed
    cfg = config(clean_cfg.corpus_root, tmp_path / "data", batch_size=8)
    done: list[str] = []

    def stop_after_two(rec: VideoRecord) -> None:
        done.append(rec.path)
        if len(done) == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        index_corpus(cfg, encoder=tiny_encoder_factory(), on_video_done=stop_after_two)
    partial = dump(cfg)
    assert len(partial["videos"][0]) == 2
    # a run killed between writing frames and the video record: drop one record by hand
    store = ChromaStore(tiny_encoder_factory().id, 64, path=cfg.chroma_path)
    store.delete("videos", ids=[partial["videos"][0][1]])
    resumed = index_corpus(cfg, encoder=tiny_encoder_factory())
    assert len(resumed.unchanged) == 1 and len(resumed.indexed) == 3
    assert_same_index(dump(cfg), dump(clean_cfg))


def test_encoder_mismatch_is_refused(indexed: tuple[IndexConfig, IndexReport]) -> None:
    cfg, _ = indexed
    with pytest.raises(
        EncoderMismatchError, match=r"was built with encoder open_clip:vspec-tiny-clip:random-seed0 \(dim 64"
    ):
        ChromaStore("open_clip:ViT-B-32:laion2b_s34b_b79k", 512, path=cfg.chroma_path)


def test_search_by_caption_and_by_frame(indexed: tuple[IndexConfig, IndexReport]) -> None:
    cfg, _ = indexed
    enc, store = open_index(cfg, tiny_encoder_factory())
    hits = search_text(enc, store, CAPTION_B, k=3)
    assert hits[0].path == "b.mp4" and hits[0].matched == "caption"
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)
    frames = store.get("frames", where={"path": "d.mp4"})
    thumb = cfg.data_dir / frames.metadatas[0]["thumb"]
    img_hits = search_image(enc, store, thumb, k=4)
    assert img_hits[0].path == "d.mp4" and img_hits[0].matched.startswith("frame")
    assert len({h.video_id for h in img_hits}) == len(img_hits)
    # value filter: every hit carries the value
    top_value = store.get("videos", where={"path": "c.mp4"}).metadatas[0]["top_values"].split(",")[0]
    filtered = search_embedding(store, enc.encode_texts(["anything"])[0], k=10, value=top_value)
    tagged = {m["path"] for m in store.get("videos").metadatas if top_value in m["top_values"].split(",")}
    assert {h.path for h in filtered} == tagged and "c.mp4" in tagged


def test_stats_counts(indexed: tuple[IndexConfig, IndexReport]) -> None:
    cfg, _ = indexed
    _, store = open_index(cfg, tiny_encoder_factory())
    stats = corpus_stats(store)
    assert (stats.videos, stats.frames, stats.captions) == (4, 32, 2)
    assert stats.per_platform == {"instagram_reels": 1, "other": 2, "tiktok": 1}
    assert sum(stats.per_value.values()) == 4 * 2  # two values per video


def test_frames_preprocessed_in_workers_embed_as_encode_images(
    indexed: tuple[IndexConfig, IndexReport],
) -> None:
    # the pipeline prepares model inputs in the decode threads; results must not change
    from PIL import Image

    from ingestion.frames import sample_frames

    cfg, _ = indexed
    enc = tiny_encoder_factory()
    images = [
        Image.fromarray(f) for f in sample_frames(cfg.corpus_root / "a.mp4", cfg.frames_per_video).frames
    ]
    direct = enc.encode_images(images)
    import torch

    halves = torch.cat([enc.pixels(images[:3]), enc.pixels(images[3:])])
    assert np.array_equal(enc.encode_pixels(halves), direct)
    store = ChromaStore(enc.id, enc.dim, path=cfg.chroma_path, prefix=cfg.collection_prefix)
    vid = store.get("videos", where={"path": "a.mp4"}).ids[0]
    ids = [f"{vid}:f{i:03d}" for i in range(len(images))]
    got = store.get("frames", ids=ids, include_embeddings=True)
    order = [got.ids.index(i) for i in ids]
    assert got.embeddings is not None
    assert np.allclose(got.embeddings[order], direct, atol=1e-5)


def test_half_precision_is_refused_on_the_cpu() -> None:
    from ingestion.encoders import OpenClipEncoder
    from valuespectrum.errors import BackendError

    with pytest.raises(BackendError, match="encoder_dtype: float16 runs on a GPU only"):
        OpenClipEncoder("vspec-tiny-clip", device="cpu", dtype="float16")
    assert tiny_encoder_factory().dtype == "float32" and "@" not in tiny_encoder_factory().id
