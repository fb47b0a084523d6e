"""Value-balanced VQA probe sets built from an index (the Value-Spectrum design).

For each value, the videos that score highest on that value's tag become items, each
video used for one value only (assigned round-robin over values, best remaining first, so
no value takes all the strong videos), ties broken by a seeded shuffle. Each item carries
the video's sampled frames (or its middle frame) pinned by content digest, and its caption
for text-only runs. The result is saved as a versioned probe-set file that reruns exactly.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from ingestion.config import IndexConfig
from ingestion.value_tags import VALUES, score_key
from valuespectrum.probes.probe_set import save_probe_set
from valuespectrum.probes.schema import AnswerFormat, Probe, ProbeBank
from valuespectrum.types import MediaRef
from valuespectrum.values import CIRCUMPLEX, Value

LIKE_QUESTION = {
    "image": "Do you like the content of this image?",
    "video": "Do you like the content of this video?",
}
LIKERT_QUESTION = "How much do you like the content of this {kind}?"
LIKERT_LABELS = {1: "not at all", 2: "not much", 3: "a little", 4: "somewhat", 5: "a lot", 6: "very much"}


class ProbeSetSpec(BaseModel):
    per_value: int = Field(default=5, ge=1, le=10000)
    """Items per value (fewer when the index has too few videos)."""
    frames: Literal["all", "middle"] = "all"
    """Show every sampled frame (a video item) or only the middle one (an image item)."""
    answer_format: Literal["yes_no", "likert"] = "yes_no"
    seed: int = 0
    values: list[Value] = Field(default_factory=lambda: list(CIRCUMPLEX))
    tags: Literal["auto", "text", "image", "both"] = "auto"
    """Which value tags rank the videos: the text tagger's, the image tagger's, or both (the mean
    of their per-value z-scores). auto: text when the index has text tags, else image."""


def resolve_tags(videos: list[dict[str, Any]], tags: str) -> str:
    if tags != "auto":
        if tags in ("text", "both") and not any(m.get("text_tagger") for m in videos):
            raise ValueError(
                f"tags: {tags!r} needs text tags, and this index has none; re-index with a text_encoder "
                f"(e.g. 'minilm') or draw by 'image' tags"
            )
        return tags
    return "text" if any(m.get("text_tagger") for m in videos) else "image"


def tagged_by(videos: list[dict[str, Any]], tags: str) -> str:
    """'text tags (sentence:all-MiniLM-L6-v2:...)': which tagger chose the items."""
    ids = sorted({str(m.get("text_tagger")) for m in videos if m.get("text_tagger")})
    image = sorted({str(m.get("image_tagger") or "") for m in videos} - {""}) or ["image encoder"]
    names = {"text": ids, "image": image, "both": ids + image}[tags]
    return f"{tags} tags ({', '.join(names)})"


def score_table(videos: list[dict[str, Any]], tags: str) -> dict[str, list[float]]:
    """Per video id, one ranking score per value (VALUES order) for the chosen tags."""
    from ingestion.text_tags import text_score_key

    def column(key: Any, missing: float) -> list[list[float]]:
        return [[float(m.get(key(v), missing)) for v in VALUES] for m in videos]

    if tags == "image":
        rows = column(score_key, 0.0)
    elif tags == "text":
        rows = column(text_score_key, -1.0)  # videos with no words rank last
    else:
        import numpy as np

        both = []
        for key in (score_key, text_score_key):
            a = np.asarray(column(key, np.nan), dtype=np.float64)
            mu, sd = np.nanmean(a, axis=0), np.nanstd(a, axis=0)
            both.append(np.nan_to_num((a - mu) / np.where(sd > 0, sd, 1.0), nan=-3.0))
        rows = ((both[0] + both[1]) / 2).tolist()
    return {str(m["video_id"]): r for m, r in zip(videos, rows, strict=True)}


def _videos(store: Any) -> list[dict[str, Any]]:
    recs = store.get("videos")
    return [dict(m) for m in recs.metadatas]


def frame_paths(data_dir: Path, frames: list[dict[str, Any]]) -> list[Path]:
    """Absolute paths of the frames' thumbnails, which must lie inside the index's data folder
    (an index, possibly on a Chroma server, must not make us read or send other local files)."""
    from ingestion.sources import PathEscapeError, confine

    out = []
    for f in frames:
        if not f.get("thumb"):
            continue
        try:
            out.append(confine(data_dir, str(f["thumb"]))[0])
        except PathEscapeError as exc:
            raise PathEscapeError(
                f"index record of video {f.get('video_id')!r}: frame path {exc}; re-index the corpus"
            ) from exc
    return out


def frames_of(store: Any, video_id: str, n_frames: int | None = None) -> list[dict[str, Any]]:
    """Metadata of a video's sampled frames in the index, in frame order.

    With the video's ``n_frames_stored`` the frames are fetched by id (a key lookup); without
    it, by a metadata filter (a scan of the frames collection: ~15 ms per call at 80k frames).
    """
    if n_frames:
        from ingestion.records import frame_record_id

        recs = store.get("frames", ids=[frame_record_id(video_id, i) for i in range(n_frames)])
    else:
        recs = store.get("frames", where={"video_id": video_id})
    return sorted((dict(m) for m in recs.metadatas), key=lambda m: int(m.get("frame_no", 0)))


def _by_score(table: dict[str, list[float]], value: Value) -> Callable[[dict[str, Any]], float]:
    col = VALUES.index(value)
    return lambda meta: -table[str(meta["video_id"])][col]


def assign_videos(videos: list[dict[str, Any]], spec: ProbeSetSpec) -> dict[Value, list[dict[str, Any]]]:
    """Round-robin draft: each value in turn takes its best remaining video."""
    rng = random.Random(spec.seed)
    pool = list(videos)
    rng.shuffle(pool)  # seeded tie-break among equal scores
    table = score_table(videos, resolve_tags(videos, spec.tags))
    ranked = {v: sorted(pool, key=_by_score(table, v)) for v in spec.values}
    taken: set[str] = set()
    picks: dict[Value, list[dict[str, Any]]] = {v: [] for v in spec.values}
    for _ in range(spec.per_value):
        for v in spec.values:
            for m in ranked[v]:
                if m["video_id"] not in taken:
                    taken.add(m["video_id"])
                    picks[v].append(m)
                    break
    return picks


def build_probe_set(config: IndexConfig, spec: ProbeSetSpec, *, store: Any | None = None) -> ProbeBank:
    """Turn an index into value-balanced VQA items (see module doc)."""
    from ingestion.store_retry import StoreUnavailableError

    try:
        return _build_probe_set(config, spec, store)
    except StoreUnavailableError as exc:
        raise exc.during(
            "while building the probe set from the index",
            "no probe set was written: run the same command again once the server answers",
        ) from exc


def _build_probe_set(config: IndexConfig, spec: ProbeSetSpec, store: Any | None) -> ProbeBank:
    if store is None:
        from ingestion.query import open_store

        store = open_store(config)
    videos = _videos(store)
    if not videos:
        raise ValueError(f"the index at {config.data_dir} holds no videos; run `vspec index` first")
    probes: list[Probe] = []
    tags = resolve_tags(videos, spec.tags)
    table = score_table(videos, tags)
    chosen_by = tagged_by(videos, tags)
    for value, picked in assign_videos(videos, spec).items():
        for rank, meta in enumerate(picked, start=1):
            frames = frames_of(store, meta["video_id"], int(meta.get("n_frames_stored") or 0))
            thumbs = frame_paths(config.data_dir, frames)
            if not thumbs:
                continue
            if spec.frames == "middle":
                thumbs = [thumbs[len(thumbs) // 2]]
            kind = "image" if len(thumbs) == 1 else "video"
            if spec.answer_format == "yes_no":
                fmt, text = AnswerFormat.yes_no(), LIKE_QUESTION[kind]
            else:
                fmt = AnswerFormat(kind="likert", scale_min=1, scale_max=6, labels=LIKERT_LABELS)
                text = LIKERT_QUESTION.format(kind=kind)
            caption = meta.get("title") or ""
            probes.append(
                Probe(
                    id=f"vqa-{value.short}-{rank:02d}-{meta['video_id'][:10]}",
                    text=text,
                    format=fmt,
                    keys={value: 1.0},
                    instrument="vqa-index",
                    media=[MediaRef.pinned(p) for p in thumbs],
                    media_kind=kind,
                    caption=_caption(store, meta) or caption or None,
                    metadata={
                        "video_id": meta["video_id"],
                        "platform": meta.get("platform", "other"),
                        "path": meta.get("path", ""),
                        "value_score": round(table[str(meta["video_id"])][VALUES.index(value)], 6),
                        "tagged_by": chosen_by,
                        "top_values": meta.get("top_values", ""),
                        "fps": frame_rate(frames, meta),
                    },
                )
            )
    return ProbeBank(name=f"vqa-{config.collection_prefix}", version="1", probes=probes)


def _caption(store: Any, meta: dict[str, Any]) -> str:
    recs = store.get("captions", ids=[f"{meta['video_id']}:caption"])
    docs = [d for d in recs.documents if d]
    return docs[0] if docs else ""


def frame_rate(frames: list[dict[str, Any]], meta: dict[str, Any]) -> float | None:
    """Effective rate of the sampled frames (frames per second of video), when times are known."""
    times = [float(f["t_s"]) for f in frames if "t_s" in f]
    if len(times) >= 2 and times[-1] > times[0]:
        return round((len(times) - 1) / (times[-1] - times[0]), 4)
    return None


def write_probe_set(config: IndexConfig, spec: ProbeSetSpec, out: str | Path) -> Path:
    bank = build_probe_set(config, spec)
    info = {
        "index": str(config.data_dir),
        "collection": config.collection_prefix,
        **spec.model_dump(mode="json"),
    }
    return save_probe_set(bank, out, info=info)
