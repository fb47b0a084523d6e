"""Overhead of the browsing loop around the model: store queries, recommender update, logging.

    python benchmarks/bench_agent.py [--videos 1000] [--steps 150] [--latency-ms 100]

Builds an embedded Chroma index of synthetic videos (value-clustered 512-d embeddings, four
small frame files each, captions), then runs one browsing session with a mock model that
takes a fixed ``--latency-ms`` per call and answers like / watch / skip / search in a fixed
pattern (a search every tenth step, answered by a real store query). Reports steps per
second, the loop's own time per step (wall time minus the time spent inside the model calls,
start-up included) and its share of a step;
the target is below 10%. A second run with a zero-latency model gives the loop's own speed.
Ends with one JSON line of figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from agents.catalog import Catalog
from agents.manifest import parse_browse_manifest
from agents.session import BrowseFolder, execute_browse
from agents.synthetic import synthetic_catalog
from valuespectrum.backends.mock import MockBackend
from valuespectrum.types import ModelRequest

FRAMES_PER_VIDEO = 4


def build_index(root: Path, n_videos: int, dim: int) -> Any:
    """An embedded Chroma store laid out as ingestion writes it (videos, frames, captions)."""
    from ingestion.records import frame_record_id
    from ingestion.store import ChromaStore
    from ingestion.value_tags import flag_key

    syn = synthetic_catalog(per_value=max(1, n_videos // 10), dim=dim, seed=0)
    store = ChromaStore("bench:synthetic", dim, path=root / "chroma", prefix="bench")
    frames_dir = root / "frames"
    rng = np.random.default_rng(0)
    v_ids, v_meta, v_docs, f_ids, f_meta, c_ids, c_meta, c_docs = [], [], [], [], [], [], [], []
    f_emb = []
    for it in syn.items:
        base = {"video_id": it.video_id, "platform": it.platform, "title": it.title, "duration_s": 20.0}
        flags = {flag_key(v): v in it.values for v in it.values}
        tags = {"top_values": ",".join(v.value for v in it.values), **flags}
        v_ids.append(it.video_id)
        v_meta.append({**base, **tags, "n_frames_stored": FRAMES_PER_VIDEO})
        v_docs.append(it.caption)
        (frames_dir / it.video_id).mkdir(parents=True, exist_ok=True)
        for i in range(FRAMES_PER_VIDEO):
            rel = f"frames/{it.video_id}/{i:03d}.jpg"
            (root / rel).write_bytes(rng.bytes(12_000))  # thumbnail-sized; the mock never decodes it
            f_ids.append(frame_record_id(it.video_id, i))
            f_meta.append({**base, **tags, "frame_no": i, "t_s": 2.0 + 5.0 * i, "thumb": rel})
            f_emb.append(syn.vector(it.video_id) + 0.05 * rng.normal(size=dim))
        c_ids.append(f"{it.video_id}:caption")
        c_meta.append({**base, **tags})
        c_docs.append(it.caption)
    store.upsert("videos", v_ids, syn.embeddings, v_meta, v_docs)
    store.upsert("frames", f_ids, np.asarray(f_emb, dtype=np.float32), f_meta)
    store.upsert("captions", c_ids, syn.embeddings, c_meta, c_docs)
    return store


class HashSearcher:
    """Embeds a query as a seeded random vector (stands in for the text encoder) and asks the store."""

    def __init__(self, store: Any, dim: int) -> None:
        self.store, self.dim = store, dim

    def search(self, query: str, k: int) -> list[str]:
        from ingestion.query import search_embedding

        seed = int(hashlib.sha256(query.encode()).hexdigest()[:8], 16)
        vec = np.random.default_rng(seed).normal(size=self.dim).astype(np.float32)
        return [h.video_id for h in search_embedding(self.store, vec / np.linalg.norm(vec), k)]


def answer(req: ModelRequest) -> str:
    step = int(req.request_id.rsplit("|", 1)[1])
    if step % 10 == 9:
        return f'{{"action": "search", "query": "topic {step}"}}'
    return ['{"action": "like"}', '{"action": "watch", "dwell_seconds": 7}', '{"action": "skip"}'][step % 3]


class TimedMock(MockBackend):
    """The mock model, timing what its calls really take (a sleep can overshoot its nominal time)."""

    inside_s = 0.0

    def generate(self, requests: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return super().generate(requests)
        finally:
            self.inside_s += time.perf_counter() - t0


def session(
    catalog: Catalog, searcher: HashSearcher, out: Path, steps: int, latency_s: float
) -> dict[str, float]:
    m = parse_browse_manifest(
        {
            "name": "bench",
            "models": [{"spec": "mock", "label": "mock", "modality": "vision"}],
            "personas": ["value-power"],
            "phases": {"training": steps - steps // 3, "evaluation": steps // 3},
        }
    )
    backend = TimedMock(answer, delay_s=latency_s)
    t0 = time.perf_counter()
    outcome = execute_browse(
        m, out=out, catalog=catalog, searcher=searcher, backend_factory=lambda *a: backend
    )
    wall = time.perf_counter() - t0
    n = outcome.n_requests
    model_s = backend.inside_s
    assert n == steps and outcome.n_failed == 0
    lines = BrowseFolder(out).trajectory("mock", "value-power").read_text().count("\n")
    return {"steps": n, "wall_s": wall, "model_s": model_s, "lines": lines}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--latency-ms", type=float, default=100.0)
    ap.add_argument("--dim", type=int, default=512)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        store = build_index(root, args.videos, args.dim)
        t_index = time.perf_counter() - t0
        t0 = time.perf_counter()
        catalog = Catalog.from_store(store, root)
        t_catalog = time.perf_counter() - t0
        searcher = HashSearcher(store, args.dim)
        slow = session(catalog, searcher, root / "run-slow", args.steps, args.latency_ms / 1000)
        fresh = Catalog.from_store(store, root)  # fetches frames from the store again
        fast = session(fresh, searcher, root / "run-fast", args.steps, 0.0)
    per_step = slow["wall_s"] / slow["steps"]
    overhead = (slow["wall_s"] - slow["model_s"]) / slow["steps"]
    figures = {
        "videos": len(catalog),
        "dim": args.dim,
        "steps": slow["steps"],
        "model_latency_ms": args.latency_ms,
        "steps_per_s": round(slow["steps"] / slow["wall_s"], 3),
        "step_ms": round(per_step * 1000, 2),
        "loop_overhead_ms_per_step": round(overhead * 1000, 2),
        "loop_overhead_share": round(overhead / per_step, 4),
        "target_share": 0.10,
        "loop_only_steps_per_s": round(fast["steps"] / fast["wall_s"], 1),
        "loop_only_ms_per_step": round(fast["wall_s"] / fast["steps"] * 1000, 2),
        "catalog_load_s": round(t_catalog, 3),
        "index_build_s": round(t_index, 2),
    }
    print(
        f"{figures['steps_per_s']} steps/s with a {args.latency_ms:.0f} ms model; loop overhead "
        f"{figures['loop_overhead_ms_per_step']} ms/step = {figures['loop_overhead_share']:.1%} of a step "
        f"(target < 10%); loop alone {figures['loop_only_steps_per_s']} steps/s"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
