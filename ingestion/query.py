"""Using the index: search by text or image (optionally filtered by value / platform), corpus stats."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, Field

from ingestion.config import IndexConfig
from ingestion.value_tags import VALUES, flag_key
from valuespectrum.values import parse_value

if TYPE_CHECKING:
    from ingestion.encoders import Encoder
    from ingestion.store import Hit, VectorStore


class SearchHit(BaseModel):
    video_id: str
    score: float
    """Best cosine similarity over the video's frames and caption."""
    matched: str
    """What matched best: 'frame <k>' or 'caption'."""
    path: str
    platform: str
    title: str = ""
    top_values: list[str] = Field(default_factory=list)
    thumb: str = ""
    """Thumbnail of the best frame, relative to the data folder."""


class CorpusStats(BaseModel):
    videos: int
    frames: int
    captions: int
    encoder_id: str
    per_platform: dict[str, int]
    per_value: dict[str, int]
    """Videos tagged with each value (one of its top values)."""
    partial: int = 0
    """Indexed videos of which fewer frames decode than their container declares."""
    skipped: int | None = None
    """Files the last index run skipped or failed on (None when no run report is found)."""
    partial_files: list[str] = Field(default_factory=list)
    skipped_files: list[str] = Field(default_factory=list)
    """'path: reason' for each skipped or failed file of the last run."""


def open_index(config: IndexConfig, encoder: Encoder | None = None) -> tuple[Encoder, VectorStore]:
    """The store of an existing index and an encoder matching the one it was built with."""
    from ingestion.encoders import OpenClipEncoder
    from ingestion.store import ChromaStore

    if encoder is None:
        encoder = OpenClipEncoder(
            config.model, config.pretrained, config.device, config.seed, config.encoder_dtype
        )
    store = ChromaStore(encoder.id, encoder.dim, **config.store_location(), create=False)
    return encoder, store


def open_store(config: IndexConfig) -> VectorStore:
    """The store of an existing index, opened with the encoder id it records (no encoder built)."""
    from ingestion.store import ChromaStore

    enc_id, dim = ChromaStore.read_encoder_id(**config.store_location())
    return ChromaStore(enc_id, dim, **config.store_location(), create=False)


def value_where(value: str | None = None, platform: str | None = None) -> dict[str, Any] | None:
    """A Chroma ``where`` clause for a value tag and/or a platform."""
    clauses: list[dict[str, Any]] = []
    if value:
        clauses.append({flag_key(parse_value(value)): True})
    if platform:
        clauses.append({"platform": platform})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def search_embedding(
    store: VectorStore,
    query: np.ndarray,
    k: int = 10,
    *,
    value: str | None = None,
    platform: str | None = None,
    include_captions: bool = True,
) -> list[SearchHit]:
    """Top ``k`` videos for an embedding: best frame (or caption) per video, best first."""
    where = value_where(value, platform)
    n_frames = max(1, store.count("frames"))
    hits: list[tuple[Hit, str]] = [
        (h, f"frame {h.metadata.get('frame_no', '?')}")
        for h in store.query("frames", query, min(n_frames, k * 8), where)
    ]
    n_caps = store.count("captions")
    if include_captions and n_caps:
        hits += [(h, "caption") for h in store.query("captions", query, min(n_caps, k), where)]
    best: dict[str, SearchHit] = {}
    for h, what in sorted(hits, key=lambda x: -x[0].score):
        vid = str(h.metadata.get("video_id", h.id.split(":")[0]))
        if vid in best:
            continue
        m = h.metadata
        best[vid] = SearchHit(
            video_id=vid,
            score=round(h.score, 6),
            matched=what,
            path=str(m.get("path", "")),
            platform=str(m.get("platform", "other")),
            title=str(m.get("title", "")),
            top_values=[t for t in str(m.get("top_values", "")).split(",") if t],
            thumb=str(m.get("thumb", "")),
        )
    return sorted(best.values(), key=lambda s: -s.score)[:k]


def search_text(
    encoder: Encoder, store: VectorStore, text: str, k: int = 10, **filters: Any
) -> list[SearchHit]:
    return search_embedding(store, encoder.encode_texts([text])[0], k, **filters)


def search_image(
    encoder: Encoder, store: VectorStore, image: Path, k: int = 10, **filters: Any
) -> list[SearchHit]:
    from PIL import Image, UnidentifiedImageError

    from valuespectrum.errors import ConfigError

    try:
        with Image.open(image) as im:
            emb = encoder.encode_images([im.convert("RGB")])[0]
    except (OSError, UnidentifiedImageError) as exc:
        raise ConfigError(f"--image: cannot read {image} as an image ({exc})") from exc
    return search_embedding(store, emb, k, **filters)


def corpus_stats(store: VectorStore, report_path: Path | None = None) -> CorpusStats:
    """Counts from the store; skipped files from the last run's report at ``report_path``."""
    from ingestion.pipeline import load_report

    recs = store.get("videos")
    platforms = Counter(str(m.get("platform", "other")) for m in recs.metadatas)
    per_value = {v.value: sum(1 for m in recs.metadatas if m.get(flag_key(v)) is True) for v in VALUES}
    partial = sorted(str(m.get("path", "")) for m in recs.metadatas if m.get("partial") is True)
    last = load_report(report_path) if report_path is not None else None
    skipped = [f"{o.path}: {o.reason}" for o in (last.skipped + last.failed)] if last else []
    return CorpusStats(
        videos=len(recs.ids),
        frames=store.count("frames"),
        captions=store.count("captions"),
        encoder_id=store.encoder_id,
        per_platform=dict(sorted(platforms.items())),
        per_value=per_value,
        partial=len(partial),
        skipped=len(skipped) if last else None,
        partial_files=partial,
        skipped_files=skipped,
    )


def encoder_for_index(config: IndexConfig) -> Encoder:
    """Rebuild the encoder an index was built with, from the id recorded in its collections.

    A local checkpoint cannot be found from its digest: pass it again as ``pretrained``.
    """
    from ingestion.encoders import TINY_CLIP, OpenClipEncoder, register_tiny_clip
    from ingestion.store import ChromaStore
    from valuespectrum.errors import ConfigError

    enc_id, _ = ChromaStore.read_encoder_id(**config.store_location())
    parts = enc_id.split(":", 2)
    if len(parts) != 3 or parts[0] != "open_clip":
        raise ConfigError(f"index encoder {enc_id!r} is not an open_clip encoder this version can rebuild")
    _, model, tag = parts
    tag, _, dtype = tag.partition("@")
    dtype = dtype or "float32"
    if model == TINY_CLIP:
        register_tiny_clip()
    if tag.startswith("random-seed"):
        return OpenClipEncoder(model, None, config.device, int(tag.removeprefix("random-seed")), dtype)
    if tag.startswith("file-"):
        if not config.pretrained:
            raise ConfigError(
                f"the index was built from a local checkpoint ({enc_id}); pass the same file with --pretrained"
            )
        return OpenClipEncoder(model, config.pretrained, config.device, config.seed, dtype)
    return OpenClipEncoder(model, tag, config.device, config.seed, dtype)
