"""``vspec steer`` commands: ``extract`` vectors from contrastive pairs, ``eval`` them with controls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from valuespectrum.errors import ConfigError

if TYPE_CHECKING:
    from valuespectrum.steering.detector import InputDetector
    from valuespectrum.steering.manifest import EvalManifest
    from valuespectrum.steering.vectors import SteeringVector
    from valuespectrum.values import Value

#: Subfolder of the eval's ``out`` run folder that holds the steering results (read by ``vspec report``).
STEERING_DIR = "steering"

app = typer.Typer(
    help="Steering vectors: extract from contrastive pairs, evaluate with controls.", no_args_is_help=True
)


@app.command()
def extract(manifest: Path = typer.Argument(..., help="YAML manifest (ExtractManifest).")) -> None:
    """Extract CAA and probe vectors per value; report held-out probe accuracy per layer."""
    from valuespectrum.backends.hf import HFBackend
    from valuespectrum.steering.collect import extract_vectors, train_detector
    from valuespectrum.steering.layers import resolve_layers
    from valuespectrum.steering.manifest import ExtractManifest, load_manifest
    from valuespectrum.steering.pairs import builtin_pairs, load_pairs
    from valuespectrum.steering.vectors import SteeringVector
    from valuespectrum.values import Value, parse_value

    m = load_manifest(manifest, ExtractManifest)
    pairs = builtin_pairs() if m.pairs == "builtin" else load_pairs(m.pairs)
    try:
        values = list(Value) if m.values == "all" else [parse_value(v) for v in m.values]
    except ValueError as exc:
        raise ConfigError(f"{manifest}: field 'values': {exc}") from exc
    backend = HFBackend(m.model, device=m.device, dtype=m.dtype)
    out = Path(m.out)
    out.mkdir(parents=True, exist_ok=True)
    accuracy: dict[str, dict[str, float]] = {}
    detector_acc: dict[str, float] = {}
    for v in values:
        ex = extract_vectors(
            backend.model,
            backend.processor or backend.tokenizer,
            pairs,
            v,
            m.layers,
            model_id=backend.model_id,
            layer_template=m.layer_template,
            position=m.position,
            batch_size=m.batch_size,
            test_fraction=m.test_fraction,
            seed=m.seed,
        )
        slug = v.value.lower()
        ex.caa.save(out / f"{slug}-caa")
        ex.probe.save(out / f"{slug}-probe")
        accuracy[v.value] = {str(i): a for i, a in ex.accuracy_table().items()}
        best = max(ex.accuracy_table().items(), key=lambda kv: kv[1])
        typer.echo(f"{v.value}: held-out probe accuracy best at layer {best[0]} ({best[1]:.2f})")
        if m.detector_layer is not None:
            fit = train_detector(
                backend.model,
                backend.processor or backend.tokenizer,
                pairs,
                v,
                m.detector_layer,
                layer_template=m.layer_template,
                position=m.position,
                batch_size=m.batch_size,
                seed=m.seed,
            )
            (layer,) = resolve_layers(backend.model, [m.detector_layer], ex.probe.layer_template)
            SteeringVector(
                v,
                "probe",
                {layer: fit.w},
                backend.model_id,
                ex.probe.layer_template,
                ex.probe.data_digest,
                {layer: fit.b},
                {
                    "role": "detector",
                    "position": m.position,
                    "seed": m.seed,
                    "test_accuracy": fit.test_accuracy,
                },
            ).save(out / f"{slug}-detector")
            detector_acc[v.value] = fit.test_accuracy
            typer.echo(f"{v.value}: detector at layer {layer}, held-out accuracy {fit.test_accuracy:.2f}")
    (out / "accuracy.json").write_text(json.dumps(accuracy, indent=2) + "\n")
    if detector_acc:
        (out / "detector_accuracy.json").write_text(json.dumps(detector_acc, indent=2) + "\n")


@app.command("eval")
def evaluate(manifest: Path = typer.Argument(..., help="YAML manifest (EvalManifest).")) -> None:
    """Run a probe bank under each vector and strength, with label-order, persona and random controls.

    Results go to OUT/steering/ (report.json, summary.txt, effects.png, interdependence.json and
    the manifest), so ``vspec report OUT`` builds the steering section.
    """
    from valuespectrum.backends.hf import HFBackend
    from valuespectrum.probes.bank import list_banks, load_bank
    from valuespectrum.probes.schema import ProbeBank
    from valuespectrum.steering.evaluate import evaluate_steering
    from valuespectrum.steering.interdependence import (
        analyse_report,
        effect_matrix,
        plot_matrix,
        rows_from_report,
    )
    from valuespectrum.steering.manifest import EvalManifest, load_manifest
    from valuespectrum.steering.vectors import SteeringVector

    m = load_manifest(manifest, EvalManifest)
    bank_path = Path(m.probes)
    if m.probes in list_banks():
        bank = load_bank(m.probes)
    elif not bank_path.is_file():
        raise ConfigError(
            f"{manifest}: field 'probes': {bank_path} not found; give a probe bank JSON file or a "
            f"built-in bank ({', '.join(list_banks())})"
        )
    else:
        try:
            bank = ProbeBank.model_validate_json(bank_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ConfigError(f"{bank_path}: not a valid probe bank ({exc})") from exc
    vectors = [SteeringVector.load(p) for p in m.vectors]
    detectors = _detectors(manifest, m, vectors) if m.gate is not None else None
    backend = HFBackend(m.model, device=m.device, dtype=m.dtype)
    for p, vec in zip(m.vectors, vectors, strict=True):
        if vec.model_id != backend.model_id:
            typer.echo(
                f"warning: {p} was extracted from {vec.model_id!r}, evaluating on {backend.model_id!r}",
                err=True,
            )
    report = evaluate_steering(
        backend,
        bank.probes,
        vectors,
        m.multipliers,
        seed=m.seed,
        n_random=m.n_random,
        mode=m.mode,
        fluency=m.fluency,
        capability=m.capability,
        detectors=detectors,
    )
    out = Path(m.out) / STEERING_DIR
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.yaml").write_text(manifest.read_text(encoding="utf-8"), encoding="utf-8")
    (out / "report.json").write_text(report.model_dump_json(indent=2) + "\n")
    summary = report.summary_text()
    (out / "summary.txt").write_text(summary + "\n")
    inter = analyse_report(report)
    (out / "interdependence.json").write_text(inter.model_dump_json(indent=2) + "\n")
    rows, _ = rows_from_report(report)
    plot_matrix(effect_matrix(rows), out / "effects.png", title="Steering effects (points)", label="Δ score")
    typer.echo(summary)
    typer.echo(f"results: {out} (build the page with `vspec report {m.out}`)")


def _detectors(manifest: Path, m: EvalManifest, vectors: list[SteeringVector]) -> dict[Value, InputDetector]:
    """One whole-input detector per steered value, from the manifest's ``gate`` section."""
    from valuespectrum.steering.detector import InputDetector
    from valuespectrum.steering.vectors import SteeringVector
    from valuespectrum.values import parse_value

    assert m.gate is not None
    files: dict[Value, str] = {}
    for name, path in m.gate.detectors.items():
        try:
            files[parse_value(name)] = path
        except ValueError as exc:
            raise ConfigError(f"{manifest}: field 'gate.detectors': {exc}") from exc
    out: dict[Value, InputDetector] = {}
    for path, vec in zip(m.vectors, vectors, strict=True):
        if vec.value in out:
            continue
        source, probe = (files[vec.value], None) if vec.value in files else (f"{path} (own probe)", vec)
        try:
            probe = probe or SteeringVector.load(source)
            out[vec.value] = InputDetector.from_vector(
                probe, layer=m.gate.layer, pooling=m.gate.pooling, threshold=m.gate.threshold, source=source
            )
        except ConfigError as exc:
            raise ConfigError(
                f"{manifest}: field 'gate': {exc} (list a detector for {vec.value.value} under gate.detectors)"
            ) from exc
    return out
