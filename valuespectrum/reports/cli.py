"""Typer commands ``report`` and ``compare`` (mounted as ``vspec report`` / ``vspec compare``).

Heavy imports (matplotlib, pandas) happen inside the commands so ``vspec --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from valuespectrum.errors import ValueSpectrumError

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


def _fail(exc: Exception) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


@app.command()
def report(
    run_dir: Annotated[
        Path,
        typer.Argument(
            help="A run folder: a scored probe run (summary.json), a steering evaluation "
            "(steering/report.json) or a browsing run (browse/summary.json)."
        ),
    ],
    out: Annotated[Path | None, typer.Option(help="Output folder (default: RUN_DIR/report).")] = None,
) -> None:
    """Write an HTML report with figures (PNG/SVG) and tables (CSV/Parquet) for one run."""
    from valuespectrum.reports.build import build_report

    try:
        res = build_report(run_dir, out)
    except ValueSpectrumError as exc:
        _fail(exc)
        return
    typer.echo(f"sections: {', '.join(res.sections)}")
    typer.echo(f"report: {res.html}")


@app.command()
def compare(
    runs: Annotated[
        list[Path],
        typer.Argument(help="Scored run folders, or one comparison manifest (YAML: runs, references, out)."),
    ],
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: ./comparison or the manifest's out).")
    ] = None,
    reference: Annotated[
        list[str] | None, typer.Option("--reference", "-r", help="Reference to correlate with (repeatable).")
    ] = None,
    n_boot: Annotated[int | None, typer.Option(help="Bootstrap resamples for the differences.")] = None,
    seed: Annotated[int | None, typer.Option(help="Bootstrap seed.")] = None,
    ordinal: Annotated[
        bool, typer.Option("--ordinal", help="Also fit ordinal models of the raw ratings (ordinal.json).")
    ] = False,
    ordinal_by: Annotated[
        str, typer.Option(help="Ordinal units: auto, model, persona or group (model / persona).")
    ] = "auto",
    baseline: Annotated[
        str | None, typer.Option(help="Ordinal unit the persona targets are contrasted with.")
    ] = None,
    ordinal_bayes: Annotated[
        str,
        typer.Option(help="Ordinal posterior: laplace (Gaussian at the mode) or mcmc (full HMC sampling)."),
    ] = "laplace",
) -> None:
    """Compare runs and models: aligned table, rank correlations, bootstrap differences, a figure."""
    from valuespectrum.reports.compare import ComparisonManifest, compare_runs, load_comparison_manifest

    try:
        if len(runs) == 1 and runs[0].suffix in (".yaml", ".yml") and runs[0].is_file():
            m = load_comparison_manifest(runs[0])
        else:
            m = ComparisonManifest(runs=runs)
        res = compare_runs(
            m.runs,
            out or m.out,
            references=reference or m.references,
            n_boot=n_boot if n_boot is not None else m.n_boot,
            seed=seed if seed is not None else m.seed,
        )
    except ValueSpectrumError as exc:
        _fail(exc)
        return
    n_sig = sum(d.p_value < 0.05 for p in res.differences for d in p.differences)
    typer.echo(f"{len(res.keys)} groups; {n_sig} per-value differences with p < 0.05 (uncorrected)")
    typer.echo(f"comparison: {res.html}")
    if ordinal:
        from valuespectrum.ordinal.cli import run_ordinal

        try:
            lines = run_ordinal(m.runs, out or m.out, by=ordinal_by, baseline=baseline, bayes=ordinal_bayes)
            for line in lines:
                typer.echo(line)
        except ValueSpectrumError as exc:
            _fail(exc)
