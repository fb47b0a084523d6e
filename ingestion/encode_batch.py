"""One batch of decoded videos through the encoder and into the store.

``encode_batch`` embeds a batch's frames and captions, pools each video's frames, tags frames
and videos with values and builds every record's metadata; ``write_batch`` (the writer
thread) replaces what an interrupted run left, then writes frames, captions and last the video
records, so a video record exists only when its frames are complete.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ingestion.config import IndexConfig
from ingestion.frames import DecodedVideo
from ingestion.index_report import IndexReport, Outcome
from ingestion.records import VideoRecord, frame_record_id
from ingestion.sources import SourceVideo
from ingestion.value_tags import ValueTagger

if TYPE_CHECKING:
    from PIL.Image import Image

    from ingestion.encoders import Encoder
    from ingestion.store import VectorStore
    from ingestion.text_tags import TextTagger


@dataclass
class Taggers:
    image: ValueTagger
    text: TextTagger | None = None


@dataclass
class Prepared:
    source: SourceVideo
    record: VideoRecord | None = None
    decoded: DecodedVideo | None = None
    images: list[Image] = field(default_factory=list)
    pixels: Any = None
    """The encoder's input tensor for ``images``, made in the decode worker when the encoder can."""
    thumbs: list[str] = field(default_factory=list)
    status: str = "ok"  # ok | unchanged | skipped | failed
    reason: str = ""


@dataclass
class Batch:
    videos: list[Prepared] = field(default_factory=list)

    @property
    def n_images(self) -> int:
        return sum(len(v.images) for v in self.videos)


@dataclass
class Payload:
    frame_ids: list[str]
    frame_emb: np.ndarray
    frame_meta: list[dict[str, Any]]
    cap_ids: list[str]
    cap_emb: np.ndarray
    cap_meta: list[dict[str, Any]]
    cap_docs: list[str]
    video_ids: list[str]
    video_emb: np.ndarray
    video_meta: list[dict[str, Any]]
    video_docs: list[str]
    records: list[VideoRecord]
    outcomes: list[Outcome]


def encode_batch(batch: Batch, enc: Encoder, taggers: Taggers, config: IndexConfig) -> Payload:
    from ingestion.text_tags import video_text

    tagger = taggers.image
    texts = [video_text(v.record) if v.record else "" for v in batch.videos]
    text_scores = taggers.text.scores(texts) if taggers.text is not None else None
    if batch.videos and all(v.pixels is not None for v in batch.videos):
        import torch

        img_emb = enc.encode_pixels(torch.cat([v.pixels for v in batch.videos]))  # type: ignore[attr-defined]
    else:
        img_emb = enc.encode_images([im for v in batch.videos for im in v.images])
    captions = [v.record.caption for v in batch.videos if v.record and v.record.caption]
    cap_emb_all = enc.encode_texts(captions) if captions else np.zeros((0, enc.dim), dtype=np.float32)
    p = Payload([], img_emb, [], [], cap_emb_all, [], [], [], np.zeros((0, enc.dim)), [], [], [], [])
    pooled_rows: list[np.ndarray] = []
    offset = cap_i = 0
    for vi, v in enumerate(batch.videos):
        rec, dec = v.record, v.decoded
        assert rec is not None and dec is not None
        n = len(v.images)
        emb = img_emb[offset : offset + n]
        offset += n
        cap = None
        if rec.caption:
            cap = cap_emb_all[cap_i]
            cap_i += 1
        pooled = emb.mean(axis=0)
        pooled = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        vscores = tagger.scores(pooled, cap)
        top = tagger.top(vscores)
        base = rec.store_metadata()
        base["image_tagger"] = enc.id
        base["embedding_dtype"] = str(getattr(enc, "dtype", "float32"))
        base["text_encoder"] = config.text_encoder or ""
        if taggers.text is not None and text_scores is not None:
            base.update(taggers.text.metadata(text_scores[vi], bool(texts[vi].strip())))
        vmeta = tagger.metadata(vscores, top)
        flags = {k: val for k, val in vmeta.items() if k.startswith("is_") or k == "top_values"}
        for i, (src_idx, t) in enumerate(zip(dec.indices, dec.timestamps(), strict=True)):
            fscores = tagger.scores(emb[i], cap)
            meta = {**base, **tagger.metadata(fscores, top), **flags}
            meta.update(frame_no=i, frame_index=int(src_idx), t_s=round(float(t), 4), thumb=v.thumbs[i])
            p.frame_ids.append(frame_record_id(rec.video_id, i))
            p.frame_meta.append(meta)
        if cap is not None:
            p.cap_ids.append(f"{rec.video_id}:caption")
            p.cap_meta.append({**base, **flags})
            p.cap_docs.append(rec.caption)
        p.video_ids.append(rec.video_id)
        pooled_rows.append(pooled.astype(np.float32))
        p.video_meta.append(
            {
                **base,
                **vmeta,
                "n_frames_stored": n,
                "frames_per_video": config.frames_per_video,
                "sampling": config.sampling,
                "decoder": dec.decoder,
                "n_source_frames": int(dec.n_frames),
                "declared_frames": int(dec.declared_frames or 0),
                "decode_errors": int(dec.decode_errors),
                "partial": bool(dec.partial),
                "thumb": v.thumbs[0] if v.thumbs else "",
            }
        )
        p.video_docs.append(rec.caption or rec.title)
        p.records.append(rec)
        reason = f"partial: {dec.shortfall()}; decoder errors {dec.decode_errors}" if dec.partial else ""
        p.outcomes.append(Outcome(path=rec.path, video_id=rec.video_id, reason=reason))
    p.video_emb = np.stack(pooled_rows) if pooled_rows else np.zeros((0, enc.dim), dtype=np.float32)
    return p


def write_batch(
    st: VectorStore,
    p: Payload,
    report: IndexReport,
    lock: threading.Lock,
    hook: Callable[[VideoRecord], None] | None,
    bar: Any,
) -> None:
    # leftovers of an interrupted run (frames beyond the new count, stale captions) go first
    st.delete("frames", where={"video_id": {"$in": p.video_ids}})
    st.delete("captions", where={"video_id": {"$in": p.video_ids}})
    st.upsert("frames", p.frame_ids, p.frame_emb, p.frame_meta)
    st.upsert("captions", p.cap_ids, p.cap_emb, p.cap_meta, p.cap_docs)
    # video records last, after all their frames: their presence means "complete"
    st.upsert("videos", p.video_ids, p.video_emb, p.video_meta, p.video_docs)
    for i, rec in enumerate(p.records):
        with lock:
            report.indexed.append(p.outcomes[i])
            if p.video_meta[i]["partial"]:
                report.partial.append(p.outcomes[i])
            report.frames_written += int(p.video_meta[i]["n_frames_stored"])
        bar.advance()
        if hook is not None:
            hook(rec)
