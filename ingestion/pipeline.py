"""index_corpus: sources -> decode (thread pool) -> encode (batched) -> store (writer thread).

Decoding, thumbnail writing and hashing run in a bounded thread pool ahead of the encoder;
store writes run in a single writer thread behind it, so the three overlap. Order is kept
(results are consumed in source order), which makes a run deterministic.

Resume and idempotence: ids are deterministic (``<video_id>:f<k>`` for frames,
``<video_id>:caption``, ``<video_id>`` for videos). Per batch, the writer first deletes any
frames left by an interrupted earlier run for those videos, then writes frames, captions
and finally the video records. A video record therefore exists only when its frames are
complete, and a video whose record exists with the same sampling settings is skipped.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, Field

from ingestion.config import IndexConfig
from ingestion.frames import DecodedVideo, DecodeError, sample_frames, save_thumbnails
from ingestion.records import VideoRecord, frame_record_id, normalise_platform
from ingestion.sources import Refusal, SourceVideo, read_listing, scan_folder
from ingestion.store_retry import StoreUnavailableError
from ingestion.value_tags import ValueTagger, load_keywords

if TYPE_CHECKING:
    from PIL.Image import Image

    from ingestion.encoders import Encoder
    from ingestion.store import VectorStore
    from ingestion.text_tags import TextTagger


class Outcome(BaseModel):
    path: str
    video_id: str | None = None
    reason: str = ""


class IndexReport(BaseModel):
    """What one run did. ``skipped`` are bad inputs (with reasons); ``failed`` are unexpected errors."""

    indexed: list[Outcome] = Field(default_factory=list)
    partial: list[Outcome] = Field(default_factory=list)
    """Indexed from what decodes, fewer frames than the container declares (also in ``indexed``)."""
    unchanged: list[Outcome] = Field(default_factory=list)
    """Already in the index with the same settings (resume / re-index)."""
    skipped: list[Outcome] = Field(default_factory=list)
    failed: list[Outcome] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    """Decoder fallbacks and other warnings."""
    frames_written: int = 0
    elapsed_s: float = 0.0
    encoder_id: str = ""
    text_tagger: str = ""
    """Sentence encoder of the text tags ('' when only image tags were computed)."""
    dim: int = 0
    store: str = ""

    @property
    def videos_per_s(self) -> float:
        return len(self.indexed) / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def summary(self) -> str:
        return (
            f"indexed {len(self.indexed)}, unchanged {len(self.unchanged)}, skipped {len(self.skipped)}, "
            f"failed {len(self.failed)}, partial {len(self.partial)}; {self.frames_written} frames in {self.elapsed_s:.1f} s "
            f"({self.videos_per_s:.2f} videos/s)"
        )


@dataclass
class _Taggers:
    image: ValueTagger
    text: TextTagger | None = None


@dataclass
class _Prepared:
    source: SourceVideo
    record: VideoRecord | None = None
    decoded: DecodedVideo | None = None
    images: list[Image] = field(default_factory=list)
    pixels: Any = None
    """The encoder's input tensor for ``images``, made in the decode worker when the encoder can."""
    thumbs: list[str] = field(default_factory=list)
    status: str = "ok"  # ok | unchanged | skipped | failed
    reason: str = ""


def content_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def caption_text(meta: dict[str, Any]) -> str:
    """Listing caption, else subtitles, else title and description."""
    for key in ("caption", "subtitles"):
        if str(meta.get(key) or "").strip():
            return str(meta[key]).strip()
    return " ".join(str(meta.get(k) or "").strip() for k in ("title", "description")).strip()


_KNOWN = {"caption", "subtitles", "title", "description", "tags", "uploader", "upload_date", "webpage_url"}
_KNOWN |= {"url", "platform", "duration"}


def build_record(src: SourceVideo, digest: str, decoded: DecodedVideo | None) -> VideoRecord:
    m = src.meta
    tags = m.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.replace(";", ",").split(",") if t.strip()]
    url = str(m.get("webpage_url") or m.get("url") or "")
    return VideoRecord(
        video_id=digest.split(":", 1)[1][:16],
        path=src.rel,
        content_hash=digest,
        platform=normalise_platform(str(m.get("platform") or ""), url),  # type: ignore[arg-type]
        duration_s=decoded.duration_s if decoded else None,
        fps=decoded.fps if decoded else None,
        n_source_frames=decoded.n_frames if decoded else None,
        caption=caption_text(m),
        title=str(m.get("title") or ""),
        description=str(m.get("description") or ""),
        tags=[str(t) for t in tags],
        uploader=str(m.get("uploader") or ""),
        upload_date=str(m.get("upload_date") or ""),
        url=url,
        provenance=src.provenance,
        extra={str(k): str(v) for k, v in m.items() if k not in _KNOWN},
    )


def index_corpus(
    config: IndexConfig,
    *,
    encoder: Encoder | None = None,
    store: VectorStore | None = None,
    on_video_done: Callable[[VideoRecord], None] | None = None,
) -> IndexReport:
    """Index ``config.corpus_root`` into the vector store; returns what was indexed, skipped, failed.

    ``on_video_done`` runs in the writer thread after each video's record is stored; an
    exception it raises stops the run (the index then resumes on the next call).
    """
    from ingestion.encoders import OpenClipEncoder

    t0 = time.perf_counter()
    root = Path(config.corpus_root)
    if config.listing is not None:
        sources, refused = read_listing(root, Path(config.listing))
    else:
        sources, refused = scan_folder(root)
    report = IndexReport(skipped=[Outcome(path=r.path, reason=r.reason) for r in refused])

    enc = encoder or OpenClipEncoder(
        config.model, config.pretrained, config.device, config.seed, config.encoder_dtype
    )
    try:
        return _index(config, sources, report, enc, store, on_video_done, t0)
    except StoreUnavailableError as exc:
        done = f"{len(report.indexed)} of {len(sources)} videos" + (
            f" ({len(report.unchanged)} more were already indexed)" if report.unchanged else ""
        )
        raise exc.during(
            f"while indexing {root}; this run wrote at least {done} before it stopped",
            "nothing written is lost: run the same command again to resume (complete videos are skipped)",
        ) from exc


def _index(
    config: IndexConfig,
    sources: list[SourceVideo],
    report: IndexReport,
    enc: Encoder,
    store: VectorStore | None,
    on_video_done: Callable[[VideoRecord], None] | None,
    t0: float,
) -> IndexReport:
    from ingestion.store import ChromaStore

    st = store or ChromaStore(enc.id, enc.dim, **config.store_location())
    report.encoder_id, report.dim = enc.id, enc.dim
    report.store = str(getattr(st, "location", ""))
    tagger = ValueTagger.build(
        enc,
        load_keywords(config.keywords_file),
        config.top_values,
        config.caption_weight,
        cache_dir=config.data_dir / "cache",
    )

    text_tagger = None
    if config.text_encoder:
        from ingestion.text_tags import SentenceEncoder, TextTagger

        text_tagger = TextTagger(
            SentenceEncoder(config.text_encoder, config.device),
            load_keywords(config.keywords_file),
            config.top_values,
            cache_dir=config.data_dir / "cache",
        )
        report.text_tagger = text_tagger.id
    taggers = _Taggers(tagger, text_tagger)

    existing = {vid: meta for vid, meta in zip(*_video_index(st), strict=True)}
    try:
        with _progress(config.progress, len(sources)) as bar:
            _run(config, sources, enc, st, taggers, existing, report, on_video_done, bar)
    finally:
        # written also when a run stops part-way: `corpus stats` then shows what it got to
        report.elapsed_s = time.perf_counter() - t0
        save_report(report, config.report_path)
    return report


def save_report(report: IndexReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(report.model_dump_json(indent=1), encoding="utf-8")
    tmp.replace(path)


def load_report(path: Path) -> IndexReport | None:
    """The last run's report, or None when there is none (or it cannot be read)."""
    try:
        return IndexReport.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _video_index(st: VectorStore) -> tuple[list[str], list[dict[str, Any]]]:
    recs = st.get("videos")
    return recs.ids, recs.metadatas


def _is_complete(meta: dict[str, Any] | None, config: IndexConfig, rel: str) -> bool:
    return bool(
        meta
        and meta.get("sampling") == config.sampling
        and meta.get("frames_per_video") == config.frames_per_video
        and meta.get("path") == rel
        and meta.get("n_frames_stored", -1) >= 1
        and meta.get("text_encoder", "") == (config.text_encoder or "")
    )


def _prepare(
    src: SourceVideo, config: IndexConfig, existing: dict[str, dict[str, Any]], enc: Encoder
) -> _Prepared:
    from PIL import Image

    prep = _Prepared(src)
    try:
        digest = content_hash(src.path)
        vid = digest.split(":", 1)[1][:16]
        if _is_complete(existing.get(vid), config, src.rel):
            prep.record = build_record(src, digest, None)
            prep.status = "unchanged"
            return prep
        try:
            decoded = sample_frames(
                src.path,
                config.frames_per_video,
                config.sampling,
                partial_share=config.partial_share,
                min_share=config.min_decodable_share,
            )
        except DecodeError as exc:
            prep.status, prep.reason = "skipped", str(exc)
            return prep
        prep.decoded = decoded
        prep.record = build_record(src, digest, decoded)
        thumbs = save_thumbnails(decoded.frames, config.frames_dir / vid, config.thumbnail_size)
        prep.thumbs = [p.relative_to(config.data_dir).as_posix() for p in thumbs]
        prep.images = [Image.fromarray(f) for f in decoded.frames]
        decoded.frames = []  # the PIL images hold the pixels now
        to_pixels = getattr(enc, "pixels", None)
        if callable(to_pixels) and callable(getattr(enc, "encode_pixels", None)):
            # preprocessing here overlaps with the encoder running on the previous batch
            prep.pixels = to_pixels(prep.images)
    except Exception as exc:  # one bad file must not stop the corpus
        prep.status, prep.reason = "failed", f"{type(exc).__name__}: {exc}"
    return prep


def _ordered(
    pool: ThreadPoolExecutor, items: list[SourceVideo], fn: Callable[[SourceVideo], _Prepared], window: int
) -> Iterator[_Prepared]:
    """Like pool.map but with at most ``window`` tasks in flight (bounded memory)."""
    pending: queue.SimpleQueue[Future[_Prepared]] = queue.SimpleQueue()
    it = iter(items)
    in_flight = 0
    for src in it:
        pending.put(pool.submit(fn, src))
        in_flight += 1
        if in_flight >= window:
            break
    while in_flight:
        fut = pending.get()
        in_flight -= 1
        nxt = next(it, None)
        if nxt is not None:
            pending.put(pool.submit(fn, nxt))
            in_flight += 1
        yield fut.result()


@dataclass
class _Batch:
    videos: list[_Prepared] = field(default_factory=list)

    @property
    def n_images(self) -> int:
        return sum(len(v.images) for v in self.videos)


def _run(
    config: IndexConfig,
    sources: list[SourceVideo],
    enc: Encoder,
    st: VectorStore,
    taggers: _Taggers,
    existing: dict[str, dict[str, Any]],
    report: IndexReport,
    hook: Callable[[VideoRecord], None] | None,
    bar: Any,
) -> None:
    seen: dict[str, str] = {}
    batch = _Batch()
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vspec-store")
    writes: list[Future[None]] = []
    lock = threading.Lock()
    stop = threading.Event()  # set by the first failed write: later batches are not written

    def write(payload: _Payload) -> None:
        if stop.is_set():
            return
        try:
            _write_batch(st, payload, report, lock, hook, bar)
        except BaseException:
            stop.set()
            raise

    def flush() -> None:
        nonlocal batch
        if not batch.videos:
            return
        payload = _encode_batch(batch, enc, taggers, config)
        writes.append(writer.submit(write, payload))
        batch = _Batch()
        # surface writer errors (e.g. an interrupted run) without waiting for the end
        for w in [w for w in writes if w.done()]:
            w.result()
            writes.remove(w)

    window = max(4, 2 * config.decode_workers + config.batch_size // max(1, config.frames_per_video))
    try:
        with ThreadPoolExecutor(config.decode_workers, thread_name_prefix="vspec-decode") as pool:
            for prep in _ordered(pool, sources, lambda s: _prepare(s, config, existing, enc), window):
                if stop.is_set():
                    break
                rec = prep.record
                if rec is not None and rec.video_id in seen and prep.status in ("ok", "unchanged"):
                    report.skipped.append(
                        Outcome(
                            path=prep.source.rel,
                            video_id=rec.video_id,
                            reason=f"duplicate of {seen[rec.video_id]}",
                        )
                    )
                    bar.advance()
                    continue
                if prep.status == "unchanged" and rec is not None:
                    seen[rec.video_id] = rec.path
                    report.unchanged.append(Outcome(path=rec.path, video_id=rec.video_id))
                    bar.advance()
                    continue
                if prep.status != "ok" or rec is None or prep.decoded is None:
                    target = report.failed if prep.status == "failed" else report.skipped
                    target.append(Outcome(path=prep.source.rel, reason=prep.reason))
                    bar.advance()
                    continue
                seen[rec.video_id] = rec.path
                report.notes.extend(f"{rec.path}: {n}" for n in prep.decoded.notes)
                batch.videos.append(prep)
                if batch.n_images >= config.batch_size:
                    flush()
            flush()
            for w in writes:
                w.result()
    finally:
        writer.shutdown(wait=True, cancel_futures=True)


@dataclass
class _Payload:
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


def _encode_batch(batch: _Batch, enc: Encoder, taggers: _Taggers, config: IndexConfig) -> _Payload:
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
    p = _Payload([], img_emb, [], [], cap_emb_all, [], [], [], np.zeros((0, enc.dim)), [], [], [], [])
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


def _write_batch(
    st: VectorStore,
    p: _Payload,
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


class _NoBar:
    def advance(self) -> None:
        pass

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class _RichBar:
    def __init__(self, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from ingestion.progress import RateColumn

        self.progress = Progress(
            TextColumn("indexing"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn("videos"),
            TimeElapsedColumn(),
            transient=False,
        )
        self.task = self.progress.add_task("index", total=total)

    def advance(self) -> None:
        self.progress.advance(self.task)

    def __enter__(self) -> _RichBar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def _progress(enabled: bool, total: int) -> _NoBar | _RichBar:
    return _RichBar(total) if enabled else _NoBar()


__all__ = ["IndexReport", "Outcome", "Refusal", "index_corpus"]
