"""``vspec steer neurons`` commands: ``locate`` value neurons for contrasts, ``edit`` them against controls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from valuespectrum.errors import ConfigError

app = typer.Typer(
    help="Value neurons: locate them for value contrasts, edit them against controls.", no_args_is_help=True
)


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")


def _load_model(spec: str, dtype: str | None) -> Any:
    from valuespectrum.backends.base import activation_access
    from valuespectrum.backends.registry import create_backend

    opts: dict[str, Any] = {} if dtype is None else {"dtype": dtype}
    backend = create_backend(spec, **opts)
    return backend, activation_access(backend)


def _pairs(pairs: str) -> list[Any]:
    from valuespectrum.steering.pairs import builtin_pairs, load_pairs

    return builtin_pairs() if pairs == "builtin" else load_pairs(pairs)


def _layers(text: str | None) -> list[int] | None:
    if text is None or text == "all":
        return None
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise ConfigError(f"--layers {text!r}: write layer indices separated by commas, e.g. 3,4,5") from exc


def _choice(option: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{option} {value!r}: choose one of {', '.join(allowed)}")


@app.command("locate")
def locate_cmd(
    model: str = typer.Option(..., help="Model spec exposing activations, e.g. hf:./SmolLM2-135M-Instruct."),
    contrast: list[str] = typer.Option(
        ...,
        help="'Self-Transcendence:Self-Enhancement', 'Openness:Conservation' or a basic value (repeatable).",
    ),
    out: Path = typer.Option(..., help="Folder for the neuron sets, their statistics and locate.json."),
    k: int = typer.Option(50, help="Neurons to select (overall, or per layer with --per-layer)."),
    per_layer: bool = typer.Option(False, help="Select k neurons in each layer."),
    select: str = typer.Option("abs", help="abs (largest |d|), a (fire more for A) or b."),
    pool: str = typer.Option("mean", help="mean, last or tokens (over each response)."),
    layers: str | None = typer.Option(None, help="Comma-separated layers (default all)."),
    pairs: str = typer.Option("builtin", help="'builtin' or a .jsonl/.csv file of contrastive pairs."),
    test_fraction: float = typer.Option(0.25, help="Share of pairs held out for the readout."),
    seed: int = typer.Option(0),
    n_random: int = typer.Option(3, help="Random sets whose readout accuracy is reported as a control."),
    batch_size: int = typer.Option(8),
    dtype: str | None = typer.Option(None, help="Model dtype option (e.g. float32)."),
) -> None:
    """Locate value neurons per contrast; write the sets (safetensors + JSON) and held-out readout accuracy."""
    from valuespectrum.backends.base import text_reader
    from valuespectrum.neurons.pipeline import locate_contrast

    _choice("--select", select, ("abs", "a", "b"))
    _choice("--pool", pool, ("mean", "last", "tokens"))
    chosen_layers = _layers(layers)
    data = _pairs(pairs)
    backend, access = _load_model(model, dtype)
    summaries: dict[str, Any] = {}
    sets = {}
    try:
        for spec in contrast:
            found = locate_contrast(
                access.model, text_reader(access), data, spec, k=k, layers=chosen_layers, per_layer=per_layer,
                select=select,  # type: ignore[arg-type]
                pool=pool,  # type: ignore[arg-type]
                test_fraction=test_fraction, seed=seed, n_random=n_random, batch_size=batch_size,
                model_id=backend.model_id,
            )  # fmt: skip
            slug = _slug(found.nset.settings["contrast"])
            found.nset.save(out / slug)
            found.stats_a.save(out / f"{slug}-stats-a")
            found.stats_b.save(out / f"{slug}-stats-b")
            summaries[found.nset.settings["contrast"]] = found.summary()
            sets[found.nset.settings["contrast"]] = found.nset
            rnd = ", ".join(f"{a:.2f}" for a in found.random_readout)
            typer.echo(
                f"{found.nset.settings['contrast']}: {len(found.nset)} neurons, held-out readout accuracy "
                f"{found.readout.accuracy:.2f} (n={found.readout.n}; random sets {rnd})"
            )
    finally:
        backend.close()
    names = sorted(sets)
    overlap = {f"{a}|{b}": sets[a].jaccard(sets[b]) for i, a in enumerate(names) for b in names[i + 1 :]}
    out.mkdir(parents=True, exist_ok=True)
    (out / "locate.json").write_text(
        json.dumps({"contrasts": summaries, "jaccard": overlap}, indent=2) + "\n"
    )


@app.command("edit")
def edit_cmd(
    model: str = typer.Option(..., help="Model spec exposing activations."),
    neuron_set: Path = typer.Option(
        ..., "--set", help="A neuron set written by 'locate' (.json or .safetensors)."
    ),
    mode: str = typer.Option("shift", help="scale, shift or patch."),
    gamma: list[float] = typer.Option([1.0], help="Edit strength (repeatable)."),
    schedule: str = typer.Option("constant", help="constant or by_d (gamma scaled by |d|/max|d|)."),
    n_random: int = typer.Option(3, help="Random sets of the same size and layer distribution."),
    seed: int = typer.Option(0),
    pairs: str = typer.Option("builtin", help="The pairs the set was located on ('builtin' or a file)."),
    out: Path | None = typer.Option(None, help="Write the effects as JSON here."),
    batch_size: int = typer.Option(8),
    dtype: str | None = typer.Option(None),
) -> None:
    """Edit a neuron set and report the held-out preference effect against opposite and random sets."""
    from valuespectrum.backends.base import text_reader
    from valuespectrum.neurons.evaluate import edit_effects
    from valuespectrum.neurons.locate import NeuronSet
    from valuespectrum.neurons.pipeline import held_out_texts
    from valuespectrum.neurons.stats import NeuronStats

    _choice("--mode", mode, ("scale", "shift", "patch"))
    _choice("--schedule", schedule, ("constant", "by_d"))
    nset = NeuronSet.load(neuron_set)
    stem = neuron_set.with_suffix("")
    stats = [Path(f"{stem}-stats-{s}.json") for s in ("a", "b")]
    sa, sb = (NeuronStats.load(p) for p in stats) if all(p.is_file() for p in stats) else (None, None)
    side_a, side_b = held_out_texts(_pairs(pairs), nset)
    backend, access = _load_model(model, dtype)
    try:
        report = edit_effects(
            access.model, text_reader(access), nset, side_a, side_b,
            mode=mode,  # type: ignore[arg-type]
            gammas=gamma,
            schedule=schedule,  # type: ignore[arg-type]
            n_random=n_random, seed=seed, stats_a=sa, stats_b=sb, batch_size=batch_size,
        )  # fmt: skip
    finally:
        backend.close()
    typer.echo(
        f"{nset.settings.get('contrast')}: baseline preference {report.baseline:+.4f} (n={report.n_pairs})"
    )
    for e in report.effects:
        z = "n/a" if e.z is None else f"{e.z:+.2f}"
        opp = "= target (same neurons)" if e.opposite is None else f"{e.opposite:+.4f}"
        typer.echo(
            f"  {mode} gamma={e.gamma:g}: target {e.target:+.4f}, opposite {opp}, "
            f"random {e.random_mean:+.4f} (sd {e.random_sd:.4f}), z {z}"
        )
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report.as_dict(), indent=2) + "\n")
