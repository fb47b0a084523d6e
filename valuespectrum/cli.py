"""The ``vspec`` command line. Imports stay lazy so ``vspec --help`` answers at once."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from valuespectrum.errors import ValueSpectrumError

app = typer.Typer(
    name="vspec",
    help="Measure, compare and steer the Schwartz values of VLMs and LLMs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(exc: Exception) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


@app.command()
def run(
    manifest: Annotated[Path, typer.Argument(help="Run manifest (YAML).", exists=False)],
    out: Annotated[Path | None, typer.Option(help="Run folder (default: output_dir/name).")] = None,
    fresh: Annotated[bool, typer.Option(help="Discard what the run folder holds and start over.")] = False,
    max_failure_rate: Annotated[
        float | None, typer.Option(help="Exit non-zero when more than this share of requests failed.")
    ] = None,
) -> None:
    """Run a manifest: probes x personas x models -> a run folder with responses, scores and a summary."""
    from valuespectrum.manifest import load_manifest
    from valuespectrum.runs.terminal import print_outcome, progress_bar

    try:
        m = load_manifest(manifest)
        from valuespectrum.runs.execute import execute_run
        from valuespectrum.runs.score import score_run

        with progress_bar() as on_progress:
            outcome = execute_run(m, base=manifest.parent, out=out, fresh=fresh, progress=on_progress)
        summary = score_run(outcome.folder)
    except ValueSpectrumError as exc:
        _fail(exc)
        return
    limit = m.max_failure_rate if max_failure_rate is None else max_failure_rate
    print_outcome(outcome, summary)
    if outcome.failure_rate > limit:
        typer.secho(
            f"{outcome.n_failed} of {outcome.n_requests} requests failed "
            f"({outcome.failure_rate:.1%} > allowed {limit:.1%}); see {outcome.folder.responses}",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(1)


@app.command()
def score(run_dir: Annotated[Path, typer.Argument(help="A run folder.")]) -> None:
    """Re-score a run folder from its stored responses, without calling any model."""
    from valuespectrum.runs.folder import RunFolder
    from valuespectrum.runs.score import score_run
    from valuespectrum.runs.terminal import print_summary

    folder = RunFolder(run_dir)
    if not folder.exists():
        _fail(ValueError(f"{run_dir}: not a run folder (no header.json); give the folder `vspec run` wrote"))
    try:
        summary = score_run(folder)
    except ValueSpectrumError as exc:
        _fail(exc)
        return
    print_summary(summary)


@app.command()
def values() -> None:
    """List the 10 basic values in circumplex order, with their higher-order groups."""
    from rich.console import Console
    from rich.table import Table

    from valuespectrum.values import CIRCUMPLEX, higher_order_of, opposite

    table = Table(title="Schwartz basic values (circumplex order)")
    for col in ("code", "value", "higher order", "opposite", "definition"):
        table.add_column(col)
    for v in CIRCUMPLEX:
        table.add_row(
            v.short, v.value, " / ".join(h.value for h in higher_order_of(v)), opposite(v).value, v.definition
        )
    Console().print(table)


@app.command()
def personas() -> None:
    """List the built-in personas."""
    from rich.console import Console
    from rich.table import Table

    from valuespectrum.personas import builtin_personas

    table = Table(title="Built-in personas (use 'none' for no persona)")
    for col in ("id", "kind", "targets", "description"):
        table.add_column(col)
    for p in builtin_personas().values():
        table.add_row(p.id, p.kind, ", ".join(v.value for v in p.targets), p.description)
    Console().print(table)


@app.command()
def banks() -> None:
    """List the built-in probe banks with item counts per value."""
    from rich.console import Console
    from rich.table import Table

    from valuespectrum.probes.bank import list_banks, load_bank
    from valuespectrum.values import CIRCUMPLEX

    table = Table(title="Built-in probe banks")
    table.add_column("bank")
    table.add_column("items")
    for v in CIRCUMPLEX:
        table.add_column(v.short)
    for name in list_banks():
        bank = load_bank(name)
        per = bank.by_value()
        table.add_row(name, str(len(bank.probes)), *[str(len(per[v])) for v in CIRCUMPLEX])
    Console().print(table)


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="Where the demo writes its corpus, index and runs.")] = Path(
        "vspec-demo"
    ),
    model: Annotated[
        str | None,
        typer.Option(help="Model spec for the text-probe run (default: SmolLM2-135M if installed)."),
    ] = None,
) -> None:
    """Run the main job on embedded defaults: a demo corpus indexed, text and VQA probes, reports."""
    from valuespectrum.demo import run_demo

    try:
        run_demo(workdir, model=model)
    except ValueSpectrumError as exc:
        _fail(exc)


def _mount_subapps() -> None:
    """Mount the other packages' commands; each keeps its heavy imports inside the commands."""
    from agents.cli import browse
    from ingestion.cli import app as ingest_app
    from valuespectrum.reports.cli import app as reports_app
    from valuespectrum.steering.cli import app as steer_app
    from valuespectrum.valuegraph.cli import graph

    corpus = typer.Typer(help="Inspect an indexed corpus.", no_args_is_help=True)
    for cmd in ingest_app.registered_commands:
        (app if cmd.name in ("index", "search") else corpus).registered_commands.append(cmd)
    app.add_typer(corpus, name="corpus")
    app.registered_commands.extend(reports_app.registered_commands)
    app.add_typer(steer_app, name="steer", help="Extract steering vectors and evaluate steering.")
    app.command(name="browse")(browse)
    app.command(name="graph")(graph)


_mount_subapps()


def main() -> None:
    try:
        app()
    except ValueSpectrumError as exc:  # pragma: no cover - commands catch their own
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
