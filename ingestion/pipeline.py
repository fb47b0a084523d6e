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

import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingestion.config import IndexConfig
from ingestion.encode_batch import Batch, Payload, Prepared, Taggers, encode_batch, write_batch
from ingestion.frames import DecodeError, sample_frames, save_thumbnails
from ingestion.index_progress import index_progress
from ingestion.index_report import IndexReport, Outcome, load_report, save_report
from ingestion.records import VideoRecord
from ingestion.source_record import build_record, caption_text, content_hash
from ingestion.sources import Refusal, SourceVideo, read_listing, scan_folder
from ingestion.store_retry import StoreUnavailableError
from ingestion.value_tags import ValueTagger, load_keywords

if TYPE_CHECKING:
    from ingestion.encoders import Encoder
    from ingestion.store import VectorStore


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
    taggers = Taggers(tagger, text_tagger)

    existing = {vid: meta for vid, meta in zip(*_video_index(st), strict=True)}
    try:
        with index_progress(config.progress, len(sources)) as bar:
            _run(config, sources, enc, st, taggers, existing, report, on_video_done, bar)
    finally:
        # written also when a run stops part-way: `corpus stats` then shows what it got to
        report.elapsed_s = time.perf_counter() - t0
        save_report(report, config.report_path)
    return report


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
) -> Prepared:
    from PIL import Image

    prep = Prepared(src)
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
    pool: ThreadPoolExecutor, items: list[SourceVideo], fn: Callable[[SourceVideo], Prepared], window: int
) -> Iterator[Prepared]:
    """Like pool.map but with at most ``window`` tasks in flight (bounded memory)."""
    pending: queue.SimpleQueue[Future[Prepared]] = queue.SimpleQueue()
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


def _run(
    config: IndexConfig,
    sources: list[SourceVideo],
    enc: Encoder,
    st: VectorStore,
    taggers: Taggers,
    existing: dict[str, dict[str, Any]],
    report: IndexReport,
    hook: Callable[[VideoRecord], None] | None,
    bar: Any,
) -> None:
    seen: dict[str, str] = {}
    batch = Batch()
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vspec-store")
    writes: list[Future[None]] = []
    lock = threading.Lock()
    stop = threading.Event()  # set by the first failed write: later batches are not written

    def write(payload: Payload) -> None:
        if stop.is_set():
            return
        try:
            write_batch(st, payload, report, lock, hook, bar)
        except BaseException:
            stop.set()
            raise

    def flush() -> None:
        nonlocal batch
        if not batch.videos:
            return
        payload = encode_batch(batch, enc, taggers, config)
        writes.append(writer.submit(write, payload))
        batch = Batch()
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


__all__ = [
    "IndexReport",
    "Outcome",
    "Refusal",
    "build_record",
    "caption_text",
    "content_hash",
    "index_corpus",
    "load_report",
    "save_report",
]
