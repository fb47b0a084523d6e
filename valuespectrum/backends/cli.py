"""``vspec model convert``: a GGUF file as a standard transformers folder, converted once.

Heavy imports (torch, transformers) happen inside the command so ``vspec --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from valuespectrum.errors import ValueSpectrumError

app = typer.Typer(
    help="Model files: convert a GGUF once into a standard folder.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def convert(
    gguf: Annotated[Path, typer.Argument(help="A .gguf text model file.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Write the folder here (default: the GGUF cache, keyed by the file's SHA-256)."),
    ] = None,
) -> None:
    """Dequantise FILE.gguf into a safetensors folder any ``from_pretrained`` loads; print the folder.

    Without --out the folder is the one ``hf:FILE.gguf`` loads from, in the cache
    ($VSPEC_GGUF_CACHE, else $VSPEC_DATA/gguf, else ~/.cache/valuespectrum/gguf): converting
    ahead of a run spares the run the minute a large GGUF takes to parse.
    """
    from valuespectrum.backends.hf_loading import convert_gguf_to_folder, converted_gguf

    src = gguf.expanduser()
    if not src.is_file():
        typer.secho(f"error: {src}: no such GGUF file", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    if src.suffix.lower() != ".gguf":
        typer.secho(f"error: {src}: not a .gguf file (give the model's .gguf)", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    try:
        folder = converted_gguf(src.resolve()) if out is None else convert_gguf_to_folder(src, out)
    except (ValueSpectrumError, OSError, ValueError) as exc:
        typer.secho(f"error: {src}: conversion failed: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    typer.echo(str(folder))
