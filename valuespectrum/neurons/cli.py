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
    from valuespectrum.steering.conva_pairs import pairs_from_source

    return pairs_from_source(pairs)


PAIRS_HELP = (
    "'builtin', a .jsonl/.csv file of contrastive pairs, 'conva:DIR' (ConVA's context-controlled files) "
    "or 'conva-non-controlled:DIR'."
)


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
    pairs: str = typer.Option("builtin", help=PAIRS_HELP),
    context: str = typer.Option(
        "controlled", help="controlled (pairs as given) or non_controlled (each aspect from another pair)."
    ),
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
    _choice("--context", context, ("controlled", "non_controlled"))
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
                context=context,  # type: ignore[arg-type]
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
    pairs: str = typer.Option("builtin", help="The pairs the set was located on. " + PAIRS_HELP),
    out: Path | None = typer.Option(
        None, help="Write the effects as JSON here (e.g. FOLDER/edits/NAME.json)."
    ),
    quality: bool = typer.Option(True, help="Measure perplexity and the 20 capability items per condition."),
    mmlu: Path | None = typer.Option(None, help="MMLU-layout folder: accuracy per condition (test split)."),
    mmlu_k: int = typer.Option(5, help="Solved dev questions before each MMLU question."),
    mmlu_max: int | None = typer.Option(None, help="Use only the first N MMLU questions."),
    batch_size: int = typer.Option(8),
    dtype: str | None = typer.Option(None),
) -> None:
    """Edit a neuron set and report the held-out preference effect against opposite and random sets,
    with fluency and capability under each condition."""
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
    questions, dev = _mmlu(mmlu, mmlu_max)
    backend, access = _load_model(model, dtype)
    try:
        measure = None
        if quality or questions:
            from valuespectrum.neurons.quality import quality_measure

            measure = quality_measure(
                access.model, text_reader(access), [t.text for t in (*side_a, *side_b)], backend=access,
                capability=quality, perplexity_of_texts=quality, mmlu=questions, mmlu_dev=dev, mmlu_k=mmlu_k,
            )  # fmt: skip
        report = edit_effects(
            access.model, text_reader(access), nset, side_a, side_b,
            mode=mode,  # type: ignore[arg-type]
            gammas=gamma,
            schedule=schedule,  # type: ignore[arg-type]
            n_random=n_random, seed=seed, stats_a=sa, stats_b=sb, batch_size=batch_size, measure=measure,
        )  # fmt: skip
    finally:
        backend.close()
    for q in report.quality:
        shown = ", ".join(
            f"{k} {v:.4g}"
            for k, v in q.items()
            if k not in ("condition", "gamma", "random") and v is not None
        )
        which = q["condition"] if q["random"] is None else f"{q['condition']} #{q['random']}"
        typer.echo(f"  quality {which}: {shown}")
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
        info = {"contrast": nset.settings.get("contrast"), "set": str(neuron_set), "size": len(nset)}
        out.write_text(json.dumps(info | report.as_dict(), indent=2) + "\n")


def _mmlu(folder: Path | None, limit: int | None) -> tuple[list[Any], dict[str, list[Any]] | None]:
    if folder is None:
        return [], None
    from valuespectrum.steering.mmlu import load_mmlu

    tests = [q for qs in load_mmlu(folder, "test").values() for q in qs]
    has_dev = (folder / "dev").is_dir() or any(folder.glob("*_dev.csv"))
    return tests[:limit] if limit is not None else tests, load_mmlu(folder, "dev") if has_dev else None


@app.command("ablation")
def ablation_cmd(
    model: str = typer.Option(..., help="Model spec exposing activations."),
    contrast: list[str] = typer.Option(..., help="A contrast as in 'locate' (repeatable)."),
    k: int = typer.Option(50, help="Neurons to select (overall, or per layer with --per-layer)."),
    per_layer: bool = typer.Option(False, help="Select k neurons in each layer."),
    pool: str = typer.Option("mean", help="mean, last or tokens (over each response)."),
    layers: str | None = typer.Option(None, help="Comma-separated layers (default all)."),
    pairs: str = typer.Option("builtin", help="Context-controlled pairs. " + PAIRS_HELP),
    non_controlled: str | None = typer.Option(
        None,
        help="Non-controlled pairs of their own (e.g. conva-non-controlled:DIR); default: built from --pairs.",
    ),
    test_fraction: float = typer.Option(0.25),
    seed: int = typer.Option(0),
    n_random: int = typer.Option(3, help="Random sets read out as a control, per variant."),
    batch_size: int = typer.Option(8),
    dtype: str | None = typer.Option(None),
    out: Path | None = typer.Option(
        None, help="Folder for context-ablation.json (the report reads it there)."
    ),
) -> None:
    """Context-controlled versus non-controlled location: held-out readout accuracy of each."""
    from valuespectrum.backends.base import text_reader
    from valuespectrum.neurons.context import context_ablation

    _choice("--pool", pool, ("mean", "last", "tokens"))
    data = _pairs(pairs)
    other = None if non_controlled is None else _pairs(non_controlled)
    chosen = _layers(layers)
    backend, access = _load_model(model, dtype)
    results = []
    try:
        for spec in contrast:
            res = context_ablation(
                access.model, text_reader(access), data, spec, k=k, layers=chosen, per_layer=per_layer,
                pool=pool,  # type: ignore[arg-type]
                test_fraction=test_fraction, seed=seed, n_random=n_random, batch_size=batch_size,
                model_id=backend.model_id, non_controlled_pairs=other,
            )  # fmt: skip
            results.append(res.as_dict())
            for v in ("controlled", "non_controlled"):
                rnd = ", ".join(f"{a:.2f}" for a in res.random[v])
                typer.echo(
                    f"{res.contrast} [{v}]: held-out readout accuracy {res.accuracy[v]:.3f} "
                    f"(n={res.n_test_texts}, trained on {res.n_train_pairs} pairs; random sets {rnd})"
                )
            typer.echo(f"{res.contrast}: Jaccard of the two sets {res.jaccard:.3f}")
    finally:
        backend.close()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        doc = {"model_id": backend.model_id, "k": k, "pool": pool, "seed": seed, "contrasts": results}
        (out / "context-ablation.json").write_text(json.dumps(doc, indent=2) + "\n")


@app.command("import-conva")
def import_conva_cmd(
    source: Path = typer.Argument(..., help="ConVA's data folder (or one pair file)."),
    out: Path = typer.Option(..., help="The .jsonl pair file to write (the project's pair layout)."),
    kind: str = typer.Option("context_controlled", help="context_controlled or non_context_controlled."),
) -> None:
    """Convert ConVA pair files (question_1 positive, question_2 negative) into a pair file for --pairs."""
    from valuespectrum.steering.conva_pairs import KINDS, load_conva_pairs, write_pairs_jsonl

    _choice("--kind", kind, KINDS)
    found = load_conva_pairs(source, kind)  # type: ignore[arg-type]
    write_pairs_jsonl(found, out)
    counts: dict[str, int] = {}
    for p in found:
        counts[p.value.value] = counts.get(p.value.value, 0) + 1
    typer.echo(f"{out}: {len(found)} pairs ({', '.join(f'{v} {n}' for v, n in sorted(counts.items()))})")


@app.command("report")
def report_cmd(
    folder: Path = typer.Argument(..., help="The --out folder of 'locate'."),
    edit: list[Path] = typer.Option([], help="Effect files of 'edit --out' (default FOLDER/edits/*.json)."),
    out: Path | None = typer.Option(
        None, help="Folder for report.html and its figures (default FOLDER/report)."
    ),
) -> None:
    """HTML report: neurons per layer, overlap, edit effects against controls, fluency and capability."""
    from valuespectrum.neurons.report import write_neuron_report

    typer.echo(str(write_neuron_report(folder, edit or None, out)))
