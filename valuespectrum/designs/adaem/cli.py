"""``vspec adaem generate MANIFEST`` and ``vspec adaem evaluate MANIFEST``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from valuespectrum.errors import ValueSpectrumError

app = typer.Typer(help="AdAEM: adaptive value questions that tell models apart.", no_args_is_help=True)

ManifestArg = Annotated[Path, typer.Argument(help="AdAEM manifest (YAML).")]
OutOpt = Annotated[Path | None, typer.Option(help="Output folder (default: output_dir/name).")]
FreshOpt = Annotated[bool, typer.Option(help="Discard what the output folder holds and start over.")]


def _run(kind: str, manifest: Path, out: Path | None, fresh: bool) -> tuple[Path, dict[str, Any], float]:
    """Run the ``generate`` or ``evaluate`` stage; a bad manifest or model exits 2 with its message."""
    from valuespectrum.designs.adaem import design
    from valuespectrum.manifest import load_config

    manifest_cls, runner = (
        (design.GenerateManifest, design.run_generate)
        if kind == "generate"
        else (design.EvaluateManifest, design.run_evaluate)
    )
    try:
        limit = load_config(manifest_cls, manifest).max_unread_rate
        folder, summary = runner(manifest, out=out, fresh=fresh)
    except ValueSpectrumError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    return folder, summary, limit


def _finish(folder: Path, summary: dict[str, Any], limit: float) -> None:
    typer.echo(
        f"model calls: {summary['calls_made']} made, {summary['calls_replayed']} replayed from the trace; "
        f"value judgments unread: {summary['n_unread_judgments']} of {summary['n_judgments']}"
    )
    typer.echo(f"wrote {folder / 'summary.json'} and {folder / 'report.html'}")
    if summary["unread_rate"] > limit:
        typer.secho(
            f"unread value judgments {summary['unread_rate']:.1%} > allowed {limit:.1%} (max_unread_rate)",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(1)


@app.command("generate")
def generate(manifest: ManifestArg, out: OutOpt = None, fresh: FreshOpt = False) -> None:
    """Explore topics with a bandit; write, refine and score questions; keep the most informative."""
    folder, summary, limit = _run("generate", manifest, out, fresh)
    typer.echo(f"{summary['n_questions']} questions kept over {len(summary['arms'])} topics")
    for q in summary["top"][:3]:
        typer.echo(f"  {q['score']:.3f}  {q['question']}")
    _finish(folder, summary, limit)


@app.command("evaluate")
def evaluate(manifest: ManifestArg, out: OutOpt = None, fresh: FreshOpt = False) -> None:
    """Answer a question set with each model; rate the models per value (TrueSkill, win rates)."""
    folder, summary, limit = _run("evaluate", manifest, out, fresh)
    for v in summary["values"]:
        r, n_games = summary["ratings"][v]["models"], summary["ratings"][v]["n_games"]
        if not n_games:
            typer.echo(f"{v}: no model's answers express it more often than another's")
            continue
        top = max(summary["models"], key=lambda m: r[m]["mu"])
        typer.echo(
            f"{v}: highest rated {top} (mu {r[top]['mu']:.2f}, win rate {r[top]['win_rate']:.2f}; "
            f"{n_games} games)"
        )
    _finish(folder, summary, limit)
