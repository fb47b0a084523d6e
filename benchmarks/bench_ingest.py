"""Ingestion throughput and query latency.

Measures, on generated videos with 8 frames sampled each and open_clip ViT-B-32 (random weights):
  - pipeline: index_corpus end to end (decode, thumbnails, embeddings, value tags, Chroma writes)
  - encoder limit: the same 8 frames per video, pre-decoded and pre-processed, through the model
    in batches (the ceiling on this machine); ``encoder_alone`` also counts the preprocessing
  - naive: a plain script, OpenCV reading every frame and keeping 8 evenly spaced ones, the
    open_clip model called on one image at a time, one Chroma ``add`` per frame
and the median latency of a top-10 query with a value filter over N frame embeddings.
Headline: the pipeline's fraction of the model-only limit (``fraction_of_model_only_limit``;
1.0 would mean decoding, thumbnails, tagging and store writes cost nothing beside the model).
``--half`` runs the encoder in float16 (GPU only; the index records the dtype); with a GPU the
frames/s figures are the ones to read. Prints one JSON line with the figures at the end.

Videos: short-form platform clips are portrait, 10-60 s, 24-30 fps, 720p or less, H.264 with
B-frames and keyframes every couple of seconds. The default corpus is 480x854 portrait, 12 s at
30 fps (360 frames), H.264 (libx264 ``veryfast``, keyframe every 2 s, ~0.5 Mbit/s): a textured
background panning slowly, moving blocks and light per-frame grain, so that it compresses like
camera footage rather than a still. Generating 50 takes 1-2 minutes; they are cached under the
system temp folder (keyed by the settings) so reruns reuse them.

    python benchmarks/bench_ingest.py [--videos 50] [--model ViT-B-32] [--query-n 50000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ClipSpec:
    width: int = 480
    height: int = 854
    fps: int = 30
    seconds: float = 12.0
    gop_s: float = 2.0

    @property
    def tag(self) -> str:
        return f"{self.width}x{self.height}-{self.fps}fps-{self.seconds:g}s-gop{self.gop_s:g}"


def write_clip(path: Path, seed: int, spec: ClipSpec) -> Path:
    """One H.264 clip: panning texture, moving blocks, grain (see the module docstring)."""
    import av

    w, h, pad = spec.width, spec.height, 32
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, 256, ((h + 2 * pad) // 16 + 1, (w + 2 * pad) // 16 + 1, 3), dtype=np.uint8)
    bg = np.kron(cells, np.ones((16, 16, 1), np.uint8))[: h + 2 * pad, : w + 2 * pad]
    yy, xx = np.mgrid[0 : h + 2 * pad, 0 : w + 2 * pad]
    bg = ((bg.astype(np.int16) + ((xx + yy) // 8 % 32)[..., None]) // 2).astype(np.uint8)
    grain = rng.integers(-6, 7, (8, h, w, 3), dtype=np.int16)  # cycled: fresh noise per frame is slow
    blocks = [
        (
            int(rng.integers(40, 140)),
            *rng.integers(0, 10_000, 2),
            *rng.integers(-6, 7, 2),
            rng.integers(0, 256, 3),
        )
        for _ in range(6)
    ]
    part = path.with_suffix(".part")
    with av.open(str(part), mode="w", format="mp4") as c:
        s: Any = c.add_stream("libx264", rate=spec.fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"preset": "veryfast", "g": str(round(spec.gop_s * spec.fps))}
        for t in range(round(spec.fps * spec.seconds)):
            dx, dy = int(pad // 2 * np.sin(t / 40)), int(pad // 2 * np.cos(t / 55))
            f = bg[pad + dy : pad + dy + h, pad + dx : pad + dx + w].copy()
            for size, x0, y0, vx, vy, col in blocks:
                x, y = int((x0 + vx * t) % (w - size)), int((y0 + vy * t) % (h - size))
                f[y : y + size, x : x + size] = col
            f = np.clip(f.astype(np.int16) + grain[t % 8], 0, 255).astype(np.uint8)
            for pkt in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    part.replace(path)  # a killed generation never leaves a half-written clip in the cache
    return path


def make_videos(n: int, spec: ClipSpec, folder: Path | None = None) -> tuple[Path, list[Path]]:
    """``n`` clips in a cache folder (generated once, two at a time); returns (folder, paths)."""
    folder = folder or Path(tempfile.gettempdir()) / "vspec-bench-videos" / spec.tag
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"clip_{i:03d}.mp4" for i in range(n)]
    missing = [(p, i) for i, p in enumerate(paths) if not p.is_file()]
    if missing:
        with ProcessPoolExecutor(2) as pool:
            list(
                pool.map(write_clip, [p for p, _ in missing], [i for _, i in missing], [spec] * len(missing))
            )
    return folder, paths


def make_warmup() -> list[Any]:
    from PIL import Image

    return [Image.new("RGB", (64, 64), (i * 40, 0, 0)) for i in range(2)]


def link_corpus(paths: list[Path], folder: Path) -> Path:
    """A corpus folder holding exactly ``paths`` (hard links into the cache; copies across devices)."""
    import os
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    for p in paths:
        try:
            os.link(p, folder / p.name)
        except OSError:
            shutil.copyfile(p, folder / p.name)
    return folder


def decoded_frames(videos: list[Path], n_frames: int) -> list[Any]:
    from PIL import Image

    from ingestion.frames import sample_frames

    return [Image.fromarray(f) for v in videos for f in sample_frames(v, n_frames).frames]


def bench_encoder_alone(enc: Any, images: list[Any], n_videos: int, batch: int) -> float:
    """Preprocessing and model in batches, on pre-decoded frames (``encode_images``)."""
    t0 = time.perf_counter()
    for i in range(0, len(images), batch):
        enc.encode_images(images[i : i + batch])
    return n_videos / (time.perf_counter() - t0)


def bench_model_only(enc: Any, images: list[Any], n_videos: int, batch: int) -> float:
    """The model alone in batches, on pre-processed frames: nothing the pipeline does can beat it."""
    pixels = [enc.pixels(images[i : i + batch]) for i in range(0, len(images), batch)]
    t0 = time.perf_counter()
    for px in pixels:
        enc.encode_pixels(px)
    return n_videos / (time.perf_counter() - t0)


def bench_pipeline(enc: Any, corpus: Path, data: Path, n_frames: int, batch: int) -> tuple[float, float]:
    from ingestion.config import IndexConfig
    from ingestion.pipeline import index_corpus

    cfg = IndexConfig(
        corpus_root=corpus,
        data_dir=data,
        frames_per_video=n_frames,
        batch_size=batch,
        progress=False,
        encoder_dtype=enc.dtype,
    )
    t0 = time.perf_counter()
    report = index_corpus(cfg, encoder=enc)
    first = len(report.indexed) / (time.perf_counter() - t0)
    assert not report.skipped and not report.failed, report.summary()
    # a second index into a fresh folder with the value prototypes cached: the steady-state rate
    cfg2 = cfg.model_copy(update={"data_dir": data.with_name(data.name + "-2")})
    (cfg2.data_dir / "cache").mkdir(parents=True, exist_ok=True)
    for f in (data / "cache").glob("*.npy"):
        (cfg2.data_dir / "cache" / f.name).write_bytes(f.read_bytes())
    t0 = time.perf_counter()
    report = index_corpus(cfg2, encoder=enc)
    return first, len(report.indexed) / (time.perf_counter() - t0)


def bench_naive(model: Any, preprocess: Any, videos: list[Path], n_frames: int, data: Path) -> float:
    """What a straightforward research script does (same model weights, plain open_clip calls)."""
    import chromadb
    import cv2
    import torch
    from chromadb.config import Settings
    from PIL import Image

    client = chromadb.PersistentClient(path=str(data), settings=Settings(anonymized_telemetry=False))
    col = client.create_collection("naive_frames", embedding_function=None)
    t0 = time.perf_counter()
    for v in videos:
        cap = cv2.VideoCapture(str(v))
        frames = []
        while True:
            ok, f = cap.read()
            if not ok:
                break
            frames.append(f)
        cap.release()
        step = len(frames) / n_frames
        for k in range(n_frames):
            idx = int((k + 0.5) * step)
            image = Image.fromarray(cv2.cvtColor(frames[idx], cv2.COLOR_BGR2RGB))
            with torch.no_grad():
                emb = model.encode_image(preprocess(image).unsqueeze(0))
                emb = emb / emb.norm(dim=-1, keepdim=True)
            col.add(
                ids=[f"{v.stem}:{k}"], embeddings=[emb[0].numpy()], metadatas=[{"path": v.name, "frame": idx}]
            )
    return len(videos) / (time.perf_counter() - t0)


def bench_query(n: int, dim: int, data: Path, repeats: int = 30) -> dict[str, float]:
    from ingestion.store import ChromaStore
    from ingestion.value_tags import VALUES, flag_key

    store = ChromaStore("bench:random", dim, path=data, prefix="bench")
    rng = np.random.default_rng(0)
    emb = rng.standard_normal((n, dim)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    metas = []
    for i in range(n):
        top = set(rng.choice(len(VALUES), 2, replace=False).tolist())
        metas.append({"video_id": f"v{i // 8:05d}", **{flag_key(v): j in top for j, v in enumerate(VALUES)}})
    t0 = time.perf_counter()
    store.upsert("frames", [f"f{i:06d}" for i in range(n)], emb, metas)
    add_rate = n / (time.perf_counter() - t0)
    qs = rng.standard_normal((repeats + 3, dim)).astype(np.float32)
    times = []
    for i, q in enumerate(qs):
        t = time.perf_counter()
        hits = store.query("frames", q / np.linalg.norm(q), 10, where={"is_Power": True})
        if i >= 3:  # the first queries warm the index up
            times.append((time.perf_counter() - t) * 1000)
        assert len(hits) == 10 and all(h.metadata["is_Power"] for h in hits)
    return {
        "query_ms_median": statistics.median(times),
        "query_ms_p90": sorted(times)[int(0.9 * len(times))],
        "store_adds_per_s": add_rate,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--videos", type=int, default=50)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--model", default="ViT-B-32")
    ap.add_argument("--query-n", type=int, default=50_000)
    ap.add_argument("--width", type=int, default=ClipSpec.width)
    ap.add_argument("--height", type=int, default=ClipSpec.height)
    ap.add_argument("--seconds", type=float, default=ClipSpec.seconds)
    ap.add_argument("--video-cache", type=Path, default=None, help="folder for the generated clips")
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument("--half", action="store_true", help="float16 encoder (GPU only)")
    args = ap.parse_args()

    from ingestion.encoders import OpenClipEncoder, register_tiny_clip

    if args.model == "tiny":
        args.model = register_tiny_clip()
    spec = ClipSpec(width=args.width, height=args.height, seconds=args.seconds)
    t0 = time.perf_counter()
    _, videos = make_videos(args.videos, spec, args.video_cache)
    res: dict[str, Any] = {"videos": args.videos, "frames_per_video": args.frames, "clip": spec.tag}
    res["generate_s"] = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="vspec-bench-") as tmp:
        base = Path(tmp)
        corpus = link_corpus(videos, base / "corpus")
        enc = OpenClipEncoder(args.model, pretrained=None, dtype="float16" if args.half else "float32")
        enc.encode_images(make_warmup())  # first call pays one-time allocations
        res.update(model=enc.id, device=enc.device, dtype=enc.dtype)
        images = decoded_frames(videos, args.frames)
        n = len(videos)
        alone = bench_encoder_alone(enc, images, n, args.batch)
        model_only = bench_model_only(enc, images, n, args.batch)
        first, steady = bench_pipeline(enc, corpus, base / "data", args.frames, args.batch)
        # the machine is shared: each ceiling is the better of two passes, one on each side of the pipeline
        alone = max(alone, bench_encoder_alone(enc, images, n, args.batch))
        model_only = max(model_only, bench_model_only(enc, images, n, args.batch))
        del images
        res["model_only_videos_per_s"] = model_only
        res["encoder_alone_videos_per_s"] = alone
        res["pipeline_videos_per_s_first_run"] = first
        res["pipeline_videos_per_s"] = steady
        res["ratio_to_model_only"] = steady / model_only
        res["ratio_to_encoder_alone"] = steady / alone
        res["pipeline_frames_per_s"] = steady * args.frames
        res["model_only_frames_per_s"] = model_only * args.frames
        if not args.skip_naive:
            res["naive_videos_per_s"] = bench_naive(
                enc.model, enc.preprocess, videos, args.frames, base / "naive"
            )
            res["speedup_vs_naive"] = steady / res["naive_videos_per_s"]
        if args.query_n:
            res.update({"query_n": args.query_n, **bench_query(args.query_n, enc.dim, base / "query")})
    headline = {"fraction_of_model_only_limit": res["ratio_to_model_only"]}
    print(
        f"pipeline at {res['ratio_to_model_only']:.2f} of the model-only limit "
        f"({res['pipeline_videos_per_s']:.2f} of {res['model_only_videos_per_s']:.2f} videos/s, "
        f"{res['pipeline_frames_per_s']:.1f} frames/s, {enc.dtype} on {enc.device})"
    )
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in {**headline, **res}.items()}))


if __name__ == "__main__":
    main()
