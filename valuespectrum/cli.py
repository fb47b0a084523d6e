"""The ``vspec`` command line. Imports stay lazy so ``vspec --help`` answers at once."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from valuespectrum.errors import ValueSpectrumError
from valuespectrum.value_systems import dim_name

if TYPE_CHECKING:
    from valuespectrum.runs.log import RunSummary

app = typer.Typer(
    name="vspec",
    help="Measure, compare and steer the Schwartz values of VLMs and LLMs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


#: Exit codes of ``vspec run`` and ``vspec score`` (documented in the README).
EXIT_TOO_MANY_FAILURES = 1
"""More failed requests or unparsed answers than the run allows."""
EXIT_BAD_INPUT = 2
"""Bad manifest, item file, option or folder (or the folder is locked by another run)."""
EXIT_INCOMPLETE = 3
"""The run folder lacks records for some of the requests its manifest asks."""


def _fail(exc: Exception) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def _limits(
    max_failure_rate: float | None, max_unparsed_rate: float | None
) -> tuple[float | None, float | None]:
    """The command line's thresholds, each checked to be a share (0..1)."""
    return _rate(max_failure_rate, "--max-failure-rate"), _rate(max_unparsed_rate, "--max-unparsed-rate")


def _rate(value: float | None, option: str) -> float | None:
    from valuespectrum.runs.spec import check_rate

    if value is None:
        return None
    try:
        return check_rate(value, option)
    except ValueError as exc:
        _fail(exc)
        raise


def _verdict(
    summary: RunSummary, max_failure_rate: float | None, max_unparsed_rate: float | None, where: Path
) -> None:
    """Exit 3 when incomplete, 1 past a threshold, else return (exit 0)."""
    if not summary.complete:
        typer.secho(
            f"incomplete: {summary.n_missing} of {summary.n_expected} requests have no record in {where}; "
            "run the manifest again to ask them",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(EXIT_INCOMPLETE)
    fail_limit = summary.max_failure_rate if max_failure_rate is None else max_failure_rate
    unparsed_limit = summary.max_unparsed_rate if max_unparsed_rate is None else max_unparsed_rate
    problems = []
    if summary.failure_rate > fail_limit:
        problems.append(
            f"{summary.n_failed} of {summary.n_records} requests failed "
            f"({summary.failure_rate:.1%} > allowed {fail_limit:.1%}); see {where / 'responses.jsonl'}"
        )
    if summary.unparsed_rate > unparsed_limit:
        problems.append(
            f"{summary.n_unparsed} of {summary.n_records} answers were unparsed "
            f"({summary.unparsed_rate:.1%} > allowed {unparsed_limit:.1%}, max_unparsed_rate); "
            f"see {where / 'scores.jsonl'}"
        )
    if problems:
        for line in problems:
            typer.secho(line, fg=typer.colors.RED, err=True)
        raise typer.Exit(EXIT_TOO_MANY_FAILURES)


FailureRate = Annotated[
    float | None, typer.Option(help="Exit 1 when more than this share of requests failed (0..1).")
]
UnparsedRate = Annotated[
    float | None, typer.Option(help="Exit 1 when more than this share of answers is unparsed (0..1).")
]


@app.command()
def run(
    manifest: Annotated[Path, typer.Argument(help="Run manifest (YAML).", exists=False)],
    out: Annotated[Path | None, typer.Option(help="Run folder (default: output_dir/name).")] = None,
    fresh: Annotated[bool, typer.Option(help="Discard what the run folder holds and start over.")] = False,
    max_failure_rate: FailureRate = None,
    max_unparsed_rate: UnparsedRate = None,
) -> None:
    """Run a manifest: probes x personas x models -> a run folder with responses, scores and a summary.

    Exit codes: 0 ok, 1 too many failed or unparsed, 2 bad input, 3 incomplete.
    """
    from valuespectrum.manifest import load_manifest
    from valuespectrum.runs.terminal import print_outcome, progress_bar

    fail_limit, unparsed_limit = _limits(max_failure_rate, max_unparsed_rate)
    try:
        m = load_manifest(manifest)
        from valuespectrum.runs.execute import execute_run
        from valuespectrum.runs.score import score_folder

        with progress_bar() as on_progress:
            outcome = execute_run(m, base=manifest.parent, out=out, fresh=fresh, progress=on_progress)
        summary = score_folder(outcome.folder)
    except ValueSpectrumError as exc:
        _fail(exc)
        return
    print_outcome(outcome, summary.model_dump(mode="json"))
    _verdict(summary, fail_limit, unparsed_limit, outcome.folder.root)


@app.command()
def score(
    run_dir: Annotated[Path, typer.Argument(help="A run folder.")],
    max_failure_rate: FailureRate = None,
    max_unparsed_rate: UnparsedRate = None,
    readout: Annotated[
        str | None,
        typer.Option(
            help="Headline readout: argmax (most likely option) or expected (option distribution; "
            "centred scores compared). Default: the manifest's scoring.readout."
        ),
    ] = None,
) -> None:
    """Re-score a run folder from its stored responses, without calling any model.

    Exit codes: 0 ok, 1 too many failed or unparsed, 2 bad input, 3 incomplete.
    """
    if readout not in (None, "argmax", "expected"):
        _fail(ValueError(f"--readout {readout!r}: expected argmax or expected"))
    from valuespectrum.runs.folder import RunFolder
    from valuespectrum.runs.score import score_folder
    from valuespectrum.runs.terminal import print_summary

    fail_limit, unparsed_limit = _limits(max_failure_rate, max_unparsed_rate)
    folder = RunFolder(run_dir)
    if not folder.exists():
        _fail(ValueError(f"{run_dir}: not a run folder (no header.json); give the folder `vspec run` wrote"))
    try:
        summary = score_folder(folder, readout=readout)  # type: ignore[arg-type]
    except ValueSpectrumError as exc:
        _fail(exc)
        return
    print_summary(summary.model_dump(mode="json"))
    _verdict(summary, fail_limit, unparsed_limit, folder.root)


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
        table.add_row(p.id, p.kind, ", ".join(map(dim_name, p.targets)), p.description)
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
    from valuespectrum.backends.cli import app as model_app
    from valuespectrum.designs.adaem.cli import app as adaem_app
    from valuespectrum.designs.cli import couple_app, decide, dilemmas_app
    from valuespectrum.reports.cli import app as reports_app
    from valuespectrum.steering.cli import app as steer_app
    from valuespectrum.valuegraph.cli import graph

    corpus = typer.Typer(help="Inspect an indexed corpus.", no_args_is_help=True)
    for cmd in ingest_app.registered_commands:
        (app if cmd.name in ("index", "search") else corpus).registered_commands.append(cmd)
    app.add_typer(corpus, name="corpus")
    app.registered_commands.extend(reports_app.registered_commands)
    from valuespectrum.neurons.cli import app as neurons_app

    steer_app.add_typer(neurons_app, name="neurons")
    app.add_typer(steer_app, name="steer", help="Extract steering vectors and evaluate steering.")
    app.command(name="browse")(browse)
    app.add_typer(dilemmas_app, name="dilemmas")
    app.command(name="decide")(decide)
    app.command(name="graph")(graph)
    app.add_typer(adaem_app, name="adaem")
    app.add_typer(couple_app, name="couple")
    app.add_typer(model_app, name="model")


_mount_subapps()


def main() -> None:
    try:
        app()
    except ValueSpectrumError as exc:  # pragma: no cover - commands catch their own
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(EXIT_BAD_INPUT)
