"""``vspec browse MANIFEST``: run browsing sessions into a run folder (heavy imports stay inside)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from valuespectrum.errors import ValueSpectrumError

if TYPE_CHECKING:
    from valuespectrum.results import BrowseSummary


def browse(
    manifest: Annotated[Path, typer.Argument(help="Browse manifest (YAML), e.g. manifests/browse.yaml.")],
    out: Annotated[Path | None, typer.Option(help="Run folder (default: output_dir/name).")] = None,
    fresh: Annotated[bool, typer.Option(help="Discard the folder's trajectories and start over.")] = False,
    max_failure_rate: Annotated[
        float | None, typer.Option(help="Exit non-zero when more than this share of requests failed.")
    ] = None,
) -> None:
    """Let models browse an indexed corpus as a feed under personas; writes trajectories and metrics."""
    from agents.manifest import load_browse_manifest
    from agents.session import execute_browse
    from valuespectrum.run_kit import exit_if_over, over_threshold, progress_bar

    try:
        m = load_browse_manifest(manifest)
        with progress_bar() as on_progress:
            outcome = execute_browse(m, base=manifest.parent, out=out, fresh=fresh, progress=on_progress)
    except ValueSpectrumError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    print_browse_summary(outcome.summary)
    root = outcome.folder.root.resolve()
    typer.echo(
        f"run folder: {root}  (summary: {outcome.folder.summary.resolve()}; report: vspec report {root})"
    )
    limit = m.max_failure_rate if max_failure_rate is None else max_failure_rate
    exit_if_over(
        over_threshold(
            outcome.n_failed, outcome.n_requests, limit, "requests failed", outcome.folder.trajectories
        )
    )


def _fmt(x: float | None, nd: int = 3) -> str:
    return "-" if x is None else f"{x:.{nd}f}"


def _signed(x: float | None) -> str:
    return "-" if x is None else f"{x:+.3f}"


def print_browse_summary(summary: BrowseSummary) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"browse run {summary.run}: persona alignment (eval - training congruent share)")
    for col in (
        "model",
        "persona",
        "steps",
        "train",
        "eval",
        "alignment",
        "slope/100",
        "r",
        "unparsed",
        "failed",
    ):
        table.add_column(col, justify="left" if col in ("model", "persona") else "right")
    for s in summary.sessions:
        table.add_row(
            s.model,
            s.persona,
            str(s.n_steps),
            _fmt(s.phase("training").congruent_share, 2),
            _fmt(s.phase("evaluation").congruent_share, 2),
            _signed(s.alignment),
            _signed(s.drift.slope_per_100_steps),
            _signed(s.agreement.engagement_congruence_r),
            str(s.n_unparsed),
            str(s.n_failed),
        )
    console = Console()
    if not console.is_terminal:  # logs and pipes: rich would assume 80 columns and cut cells
        console = Console(width=160)
    console.print(table)
    console.print(
        f"steps {summary.n_steps}, unparsed {summary.n_unparsed} ({summary.unparsed_rate:.1%}), "
        f"failed {summary.n_failed} ({summary.failure_rate:.1%})"
    )
