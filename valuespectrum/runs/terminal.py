"""Terminal output for runs: a progress bar with rates and a summary table at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from valuespectrum.values import CIRCUMPLEX

console = Console(stderr=True)


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    """Yield a callback ``(label, done, total)`` that drives one bar per label."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as prog:
        tasks: dict[str, Any] = {}

        def update(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = prog.add_task(label, total=total, rate="")
            task_id = tasks[label]
            prog.update(task_id, completed=done)
            speed = prog.tasks[task_id].speed
            prog.update(task_id, rate=f"{speed:.1f} req/s" if speed else "")

        yield update


def _fmt(x: float | None, nd: int = 2) -> str:
    return "-" if x is None else f"{x:.{nd}f}"


def print_summary(summary: dict[str, Any]) -> None:
    out = Console()
    table = Table(title=f"run {summary['run']}: value profiles (pooled over label orders)")
    table.add_column("model")
    table.add_column("modality")
    table.add_column("persona")
    for v in CIRCUMPLEX:
        table.add_column(v.short, justify="right")
    table.add_column("spread", justify="right")
    table.add_column("parsed", justify="right")
    table.add_column("unparsed", justify="right")
    table.add_column("failed", justify="right")
    table.add_column("order r", justify="right")
    for g in summary["groups"]:
        prof = g["profile"]
        scores = prof.get(g.get("measure") or "scores") or prof["scores"]
        agree = g.get("order_agreement") or {}
        table.add_row(
            g["model"],
            g.get("modality", ""),
            g["persona"],
            *[_fmt(scores.get(v.value)) for v in CIRCUMPLEX],
            _fmt(g["profile"].get("spread")),
            str(g["n_parsed"]),
            str(g["n_unparsed"]),
            str(g["n_failed"]),
            _fmt(agree.get("rho")),
        )
    out.print(table)
    _print_steerability(out, summary.get("steerability") or {})
    out.print(
        f"records {summary['n_records']}, unparsed {summary['n_unparsed']} ({summary['unparsed_rate']:.1%}), "
        f"failed {summary['n_failed']} ({summary['failure_rate']:.1%})"
    )


def _print_steerability(out: Console, steer: dict[str, Any]) -> None:
    rows = steer.get("overview") or []
    if not rows:
        return
    table = Table(title="persona steerability (target values' rank among the 10 changes vs no persona)")
    for col in ("model", "modality", "personas", "mean target rank", "chance", "target moved most", "chance"):
        table.add_column(col, justify="left" if col in ("model", "modality") else "right")
    for r in rows:
        table.add_row(
            r["model"],
            r["modality"],
            str(r["n_personas"]),
            _fmt(r["mean_target_rank"]),
            _fmt(r["chance_mean_target_rank"]),
            f"{r['share_target_moved_most']:.0%}",
            f"{r['chance_share_single_target']:.0%}" if r.get("chance_share_single_target") else "-",
        )
    out.print(table)


def print_outcome(outcome: Any, summary: dict[str, Any]) -> None:
    print_summary(summary)
    Console().print(
        f"run folder: {outcome.folder.root}  (new requests {outcome.n_new}, from cache {outcome.n_cached}, "
        f"already done {outcome.skipped_existing})"
    )
