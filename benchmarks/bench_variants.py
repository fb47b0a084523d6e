"""Prompt wordings and repeats cost no model calls beyond the variants themselves.

    python benchmarks/bench_variants.py [--repeats 2] [--limit 2]

Runs the built-in portrait, agreement and dilemma banks (``--limit`` items per value) on the
scripted mock backend in three wordings x two label orders, twice: once reading option
log-likelihoods (one request per item x wording x order) and once sampling ``--repeats``
text answers per request (temperature 0.7, a seed per repeat). The mock answers by wording,
label order and seed, so every statistic of the wordings block is exercised. Prints, per
mode, the ratio of requests sent to items x wordings x orders x repeats (1.0: no extra
calls; the readouts and the wording analysis are computed from the stored answers), the
share of answers parsed, the wording agreement found, and the seconds to ask and to score.
Ends with one JSON line of figures.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from valuespectrum.backends.mock import MockBackend
from valuespectrum.manifest import parse_manifest
from valuespectrum.runs.execute import execute_run
from valuespectrum.runs.score import score_folder
from valuespectrum.types import ModelRequest, stable_hash

WORDINGS = ["default", "direct", "reflective"]


def answer(req: ModelRequest) -> str:
    """A deterministic answer from the request's probe, wording and seed, given in the
    presented label order (so both orders mean the same answer)."""
    h = int(stable_hash([req.metadata["probe_id"], req.metadata.get("wording"), req.config.seed])[:8], 16)
    options = req.options or []
    rev = bool(req.metadata["reverse_labels"])
    if options and options[0].isdigit():
        true = 1 + h % 6
        return str(7 - true if rev else true)
    if options and options[0] in ("Yes", "No"):
        return "Yes" if h % 3 else "No"
    if not options:
        return "4"
    i = h % len(options)
    return options[len(options) - 1 - i if rev else i]


def run(out: Path, *, repeats: int, limit: int) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "name": f"variants-r{repeats}",
        "models": [{"spec": "mock", "label": "mock"}],
        "probes": {"banks": ["portrait", "agreement", "dilemma"], "limit_per_value": limit or None},
        "wordings": WORDINGS,
        "scoring": {"n_boot": 200},
        "cache": False,
        "batch_size": 32,
    }
    if repeats > 1:
        raw |= {
            "repeats": repeats,
            "generation": {"temperature": 0.7, "max_new_tokens": 8},
            "scoring": {"n_boot": 200, "use_logprobs": False, "reducer": "mode"},
        }
    backend = MockBackend(answer, logprobs=repeats == 1)
    t0 = time.perf_counter()
    outcome = execute_run(parse_manifest(raw, "bench"), out=out, backends={"mock": backend})
    t1 = time.perf_counter()
    summary = score_folder(outcome.folder)
    t2 = time.perf_counter()
    n_items = len((out / "probes.jsonl").read_text(encoding="utf-8").splitlines())
    expected = n_items * len(WORDINGS) * 2 * repeats
    block = summary.wordings
    assert block is not None
    groups = block.groups
    return {
        "mode": "logprob" if repeats == 1 else f"sampled x{repeats}",
        "repeats": repeats,
        "items": n_items,
        "requests": backend.calls,
        "expected": expected,
        "ratio": backend.calls / expected,
        "parsed_share": 1 - (summary.n_unparsed + summary.n_failed) / summary.n_records,
        "mean_spearman": groups[0].mean_spearman,
        "icc_consistency": groups[0].icc_consistency,
        "wording_share": block.decomposition[0].shares["wording"],
        "ask_s": round(t1 - t0, 3),
        "score_s": round(t2 - t1, 3),
    }


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:+.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="items per value (0: every item of the three banks)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run(Path(tmp) / f"r{r}", repeats=r, limit=args.limit) for r in (1, args.repeats)]
    for r in rows:
        print(
            f"{r['mode']:>12}: {r['requests']} requests / ({r['items']} items x {len(WORDINGS)} wordings x 2 "
            f"orders x {r['repeats']} repeats) = {r['ratio']:.3f}; parsed {r['parsed_share']:.1%}; mean rho "
            f"{_fmt(r['mean_spearman'])}, ICC(3,1) {_fmt(r['icc_consistency'])}, wording share "
            f"{r['wording_share']:.3f}; ask {r['ask_s']} s, score {r['score_s']} s"
        )
    print(json.dumps({"bench": "variants", "runs": rows, "ratio": max(r["ratio"] for r in rows)}))


if __name__ == "__main__":
    main()
