"""``vspec steer`` commands: ``extract`` vectors from contrastive pairs, ``eval`` them with controls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from valuespectrum.errors import ConfigError

if TYPE_CHECKING:
    from valuespectrum.manifest import ProbeSelection
    from valuespectrum.probes.schema import Probe
    from valuespectrum.steering.detector import InputDetector
    from valuespectrum.steering.manifest import EvalManifest
    from valuespectrum.steering.vectors import SteeringVector
    from valuespectrum.values import Value

app = typer.Typer(
    help="Steering vectors: extract from contrastive pairs, evaluate with controls.", no_args_is_help=True
)


@app.command()
def extract(manifest: Path = typer.Argument(..., help="YAML manifest (ExtractManifest).")) -> None:
    """Extract CAA and probe vectors per value; report held-out probe accuracy per layer."""
    from valuespectrum.backends.registry import create_backend
    from valuespectrum.runs.setup import under
    from valuespectrum.steering.extract import extract as extract_vectors
    from valuespectrum.steering.manifest import ExtractManifest, load_manifest
    from valuespectrum.values import Value, parse_value

    m = load_manifest(manifest, ExtractManifest)
    base = manifest.parent
    try:
        values = list(Value) if m.values == "all" else [parse_value(v) for v in m.values]
    except ValueError as exc:
        raise ConfigError(f"{manifest}: field 'values': {exc}") from exc
    backend = create_backend(m.model.spec, base_dir=base, **m.model.options)
    try:
        found = extract_vectors(
            backend,
            values=values,
            layers=m.layers,
            pairs="builtin" if m.pairs == "builtin" else under(base, m.pairs),
            position=m.position,
            batch_size=m.batch_size,
            test_fraction=m.test_fraction,
            seed=m.seed,
            layer_template=m.layer_template,
            detector_layer=m.detector_layer,
        )
    finally:
        backend.close()
    out = under(base, m.out)
    out.mkdir(parents=True, exist_ok=True)
    for v, vecs in found.items():
        vecs.save(out)
        best = max(vecs.accuracy.items(), key=lambda kv: kv[1])
        typer.echo(f"{v.value}: held-out probe accuracy best at layer {best[0]} ({best[1]:.2f})")
        if vecs.detector is not None:
            (layer,) = vecs.detector.layers
            typer.echo(
                f"{v.value}: detector at layer {layer}, held-out accuracy {vecs.detector_accuracy:.2f}"
            )
    accuracy = {v.value: {str(i): a for i, a in x.accuracy.items()} for v, x in found.items()}
    (out / "accuracy.json").write_text(json.dumps(accuracy, indent=2) + "\n")
    detector_acc = {v.value: x.detector_accuracy for v, x in found.items() if x.detector_accuracy is not None}
    if detector_acc:
        (out / "detector_accuracy.json").write_text(json.dumps(detector_acc, indent=2) + "\n")


@app.command("eval")
def evaluate(
    manifest: Path = typer.Argument(..., help="YAML manifest (EvalManifest)."),
    fresh: bool = typer.Option(False, help="Discard what the run folder holds and start over."),
) -> None:
    """Run a probe bank under each vector and strength, with label-order, persona and random controls.

    The evaluation is one ordinary probe run in OUT (responses.jsonl, summary.json: `vspec score`
    works on it, and a killed evaluation resumes when run again); the steering results go to
    OUT/steering/ (report.json, summary.txt, effects.png, interdependence.json and the manifest),
    so ``vspec report OUT`` builds the probe and steering sections.
    """
    from valuespectrum.backends.registry import create_backend
    from valuespectrum.results import read_summary
    from valuespectrum.run_kit import exit_if_over, over_threshold
    from valuespectrum.runs.setup import under
    from valuespectrum.runs.terminal import progress_bar
    from valuespectrum.steering.evaluate import STEERING_DIR, evaluate_manifest
    from valuespectrum.steering.interdependence import (
        analyse_report,
        effect_matrix,
        plot_matrix,
        rows_from_report,
        write_interdependence,
    )
    from valuespectrum.steering.manifest import EvalManifest, load_manifest
    from valuespectrum.steering.summary import write_steering_summary
    from valuespectrum.steering.vectors import SteeringVector

    m = load_manifest(manifest, EvalManifest)
    base = manifest.parent
    probes = _probes(manifest, m)
    files = [under(base, p) for p in m.vectors]
    vectors = [SteeringVector.load(p) for p in files]
    detectors = _detectors(manifest, m, vectors) if m.gate is not None else None
    backend = create_backend(m.model.spec, base_dir=base, **m.model.options)
    run_dir = m.run_dir(base)
    try:
        for p, vec in zip(m.vectors, vectors, strict=True):
            if vec.model_id != backend.model_id:
                typer.echo(
                    f"warning: {p} was extracted from {vec.model_id!r}, evaluating on {backend.model_id!r}",
                    err=True,
                )
        with progress_bar() as on_progress:
            report = evaluate_manifest(
                m, base, backend, probes, vectors, detectors=detectors, fresh=fresh, progress=on_progress
            )
    finally:
        backend.close()
    out = run_dir / STEERING_DIR
    (out / "manifest.yaml").write_text(manifest.read_text(encoding="utf-8"), encoding="utf-8")
    write_steering_summary(out / "report.json", report)
    summary = report.summary_text()
    (out / "summary.txt").write_text(summary + "\n")
    inter = analyse_report(report)
    write_interdependence(out / "interdependence.json", inter)
    rows, _ = rows_from_report(report)
    plot_matrix(effect_matrix(rows), out / "effects.png", title="Steering effects (points)", label="Δ score")
    typer.echo(summary)
    typer.echo(f"results: {out} (run folder {run_dir}: `vspec report {run_dir}`, `vspec score {run_dir}`)")
    run_summary = read_summary(run_dir / "summary.json")
    total = run_summary.n_records
    exit_if_over(
        over_threshold(
            run_summary.n_unparsed,
            total,
            m.max_unparsed_rate,
            "answers could not be read",
            run_dir / "scores.jsonl",
        ),
        over_threshold(
            sum(c.n_failed for c in report.conditions),
            total,
            m.max_failure_rate,
            "requests failed",
            run_dir / "responses.jsonl",
        ),
    )


def _probes(manifest: Path, m: EvalManifest) -> ProbeSelection | list[Probe]:
    """The manifest's probes: a selection as in run manifests, a built-in bank, or a ProbeBank JSON file."""
    from valuespectrum.manifest import ProbeSelection
    from valuespectrum.probes.bank import list_banks
    from valuespectrum.probes.schema import ProbeBank
    from valuespectrum.runs.setup import under

    if isinstance(m.probes, ProbeSelection):
        return m.probes.model_copy(
            update={
                "files": [
                    f.model_copy(update={"path": str(under(manifest.parent, f.path))}) for f in m.probes.files
                ],
                "probe_set": None
                if m.probes.probe_set is None
                else str(under(manifest.parent, m.probes.probe_set)),
            }
        )
    if m.probes in list_banks():
        return ProbeSelection(banks=[m.probes])
    bank_path = under(manifest.parent, m.probes)
    if not bank_path.is_file():
        raise ConfigError(
            f"{manifest}: field 'probes': {bank_path} not found; give a probe bank JSON file or a "
            f"built-in bank ({', '.join(list_banks())})"
        )
    try:
        return list(ProbeBank.model_validate_json(bank_path.read_text(encoding="utf-8")).probes)
    except ValueError as exc:
        raise ConfigError(f"{bank_path}: not a valid probe bank ({exc})") from exc


def _detectors(manifest: Path, m: EvalManifest, vectors: list[SteeringVector]) -> dict[Value, InputDetector]:
    """One whole-input detector per steered value, from the manifest's ``gate`` section."""
    from valuespectrum.runs.setup import under
    from valuespectrum.steering.detector import InputDetector
    from valuespectrum.steering.vectors import SteeringVector
    from valuespectrum.values import parse_value

    assert m.gate is not None
    files: dict[Value, str] = {}
    for name, path in m.gate.detectors.items():
        try:
            files[parse_value(name)] = str(under(manifest.parent, path))
        except ValueError as exc:
            raise ConfigError(f"{manifest}: field 'gate.detectors': {exc}") from exc
    out: dict[Value, InputDetector] = {}
    for path, vec in zip(m.vectors, vectors, strict=True):
        if vec.value in out:
            continue
        own = str(under(manifest.parent, path))
        source, probe = (files[vec.value], None) if vec.value in files else (own, vec)
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


@app.command()
def judged(manifest: Path = typer.Argument(..., help="YAML manifest (JudgedManifest).")) -> None:
    """Judged control success rate and fluency of a vector (ungated and gated) against random vectors.

    A calibrated judge's exact agreement and kappa go next to CSR and fluency; an uncalibrated
    one is labelled so. Writes OUT/judged.json and OUT/summary.txt.
    """
    from valuespectrum.steering.judged_run import run_judged

    out, lines = run_judged(manifest)
    typer.echo("\n".join(lines))
    typer.echo(f"results: {out}")
