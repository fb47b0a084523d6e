"""The README's command blocks run as written, and every example manifest parses and runs.

Each fenced ``bash`` block of README.md is either run here, line by line as a user would, in
a temporary copy of the README and ``manifests/``, or listed in ``NOT_RUN`` with the reason.
The copy gets a stand-in for the virtual environment the README activates: ``.venv/bin``
holds ``activate`` (puts that folder first on PATH), ``vspec`` (``python -m valuespectrum``
with this checkout on PYTHONPATH) and ``python`` (the interpreter running the tests). The
video block's manifests use the SmolLM2 folder that ``vspec demo`` writes to
``vspec-demo/models/SmolLM2-135M-Instruct``; the test puts a tiny random-weight causal LM of
the same architecture (tests/tiny_models.py) at that path instead, because SmolLM2 writing
48-token reasons for every Value-Spectrum item takes many minutes on 2 cores. Commands and
manifests run unchanged; only the weights behind that folder differ.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
MANIFESTS = REPO / "manifests"

#: Blocks not run by these tests, by their first command, and why.
NOT_RUN = {
    "bash scripts/install.sh && .venv/bin/vspec demo": "creates a virtual environment and installs packages "
    "from the registry (`.ci/run` does exactly this from scratch); the demo's stages run in "
    "test_first_run_and_video_blocks (its model folder) and tests/test_ingest_demo.py (its corpus)",
    '.venv/bin/python -m pytest -q -m "not gpu"': "runs this test suite, which cannot run itself",
    "ruff check . && ruff format --check . && mypy": "lint, type checks and the test suite itself: what CI runs",
    "vspec steer extract manifests/steer_extract.yaml": "the evaluation takes about 11 minutes on 2 cores, "
    "past the per-test limit; both manifests are parsed in test_example_manifest_parses and the same "
    "extract-then-eval commands run on a tiny model in tests/test_steering_cli.py",
}
FIRST_RUN = ". .venv/bin/activate"
VIDEO = "vspec corpus demo --out vspec-demo"
ORDINAL = "vspec run manifests/text_probes.yaml --out runs/text-probes"
DESIGNS = "vspec dilemmas run manifests/dilemmas.yaml"
COUPLE = "vspec couple run manifests/couple.yaml"
UPSTREAM = "mkdir -p upstream"  # run in tests/test_readme_upstream.py
WORDINGS = "vspec run manifests/wordings.yaml --out runs/wordings"


def bash_blocks(text: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"^```bash\n(.*?)^```", text, re.MULTILINE | re.DOTALL)]


def first_command(block: str) -> str:
    """The block's first line without its trailing comment."""
    line = next(line for line in block.splitlines() if line.strip())
    return re.sub(r"\s+#.*$", "", line).strip()


def readme_block(first: str) -> str:
    (block,) = [b for b in bash_blocks(README.read_text(encoding="utf-8")) if first_command(b) == first]
    return block


def test_every_block_is_run_or_has_a_reason() -> None:
    firsts = [first_command(b) for b in bash_blocks(README.read_text(encoding="utf-8"))]
    assert len(firsts) == len(set(firsts))
    assert set(firsts) == {*NOT_RUN, FIRST_RUN, VIDEO, ORDINAL, DESIGNS, COUPLE, UPSTREAM, WORDINGS}, (
        "a README block is neither run nor listed in NOT_RUN"
    )


def user_copy(root: Path) -> dict[str, str]:
    """README + manifests copied to ``root`` with a stand-in ``.venv``; returns the environment."""
    shutil.copy(README, root / "README.md")
    shutil.copytree(MANIFESTS, root / "manifests")
    bin_dir = root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "activate").write_text(f'export PATH="{bin_dir}:$PATH"\n', encoding="utf-8")
    (bin_dir / "vspec").write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -m valuespectrum "$@"\n', encoding="utf-8"
    )
    (bin_dir / "vspec").chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env["VSPEC_DATA"] = str(root / "vspec-data")
    env["HF_HUB_OFFLINE"] = "1"
    env["COLUMNS"] = "200"
    return env


def run_block(block: str, cwd: Path, env: dict[str, str], timeout: int) -> subprocess.CompletedProcess[str]:
    """Run the block's lines in one bash, stopping at the first failing command."""
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", block],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _check(res: subprocess.CompletedProcess[str], what: str) -> None:
    assert res.returncode == 0, (
        f"{what} failed ({res.returncode}):\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    )


def test_first_run_block(tmp_path: Path) -> None:
    env = user_copy(tmp_path)
    res = run_block(readme_block(FIRST_RUN), tmp_path, env, timeout=300)
    _check(res, "the 'A first run' block")
    # `vspec run manifests/text_probes.yaml` writes where `vspec score runs/text-probes` reads
    assert (tmp_path / "runs" / "text-probes" / "summary.json").is_file()
    assert not (tmp_path / "manifests" / "runs").exists()
    assert "Universalism" in res.stdout  # vspec values
    # the bias verdict the README describes, and the expected readout beside argmax
    assert "answers follow label position" in res.stdout
    assert "argmax and expected readouts side by side (headline: expected)" in res.stdout
    # the ordinal comparison of the same run (mock model, three personas)
    res = run_block(readme_block(ORDINAL), tmp_path, env, timeout=300)
    _check(res, "the ordinal-models block")
    assert (tmp_path / "runs" / "text-probes-compare" / "ordinal.json").is_file()


def test_wordings_block(tmp_path: Path) -> None:
    env = user_copy(tmp_path)
    res = run_block(readme_block(WORDINGS), tmp_path, env, timeout=300)
    _check(res, "the wordings block")
    assert "profiles per wording (3 wordings" in res.stdout
    summary = yaml.safe_load((tmp_path / "runs" / "wordings" / "summary.json").read_text(encoding="utf-8"))
    assert summary["wordings"]["wordings"] == ["default", "reflective", "plain-spoken"]
    assert (tmp_path / "runs" / "wordings" / "report" / "report.html").is_file()


@pytest.mark.slow
@pytest.mark.timeout(1200)  # about 6 minutes with 2 cores shared by several test runs
def test_first_run_and_video_blocks(tmp_path: Path) -> None:
    from tests.tiny_models import build_tiny_text_lm

    env = user_copy(tmp_path)
    models = tmp_path / "vspec-demo" / "models"
    models.mkdir(parents=True)
    shutil.copytree(build_tiny_text_lm(), models / "SmolLM2-135M-Instruct")
    _check(run_block(readme_block(FIRST_RUN), tmp_path, env, timeout=240), "the 'A first run' block")
    res = run_block(readme_block(VIDEO), tmp_path, env, timeout=900)
    _check(res, "the video block")
    assert (tmp_path / "runs" / "value-spectrum" / "summary.json").is_file()
    assert (tmp_path / "runs" / "value-spectrum" / "report" / "report.html").is_file()
    assert (tmp_path / "runs" / "browse-demo" / "browse" / "summary.json").is_file()
    # the evaluation designs, the last line on the model folder `vspec demo` writes
    _check(run_block(readme_block(DESIGNS), tmp_path, env, timeout=600), "the evaluation-designs block")
    for name in (
        "dilemmas-demo",
        "decisions-demo",
        "dilemmas-smollm2",
        "adaem-generate-demo",
        "adaem-evaluate-demo",
    ):
        assert (tmp_path / "runs" / name / "summary.json").is_file(), name


# ---------------------------------------------------------------- example manifests


def _load_run(path: Path) -> Any:
    from valuespectrum.manifest import load_manifest

    return load_manifest(path)


def _load_browse(path: Path) -> Any:
    from agents.manifest import load_browse_manifest

    return load_browse_manifest(path)


def _load_extract(path: Path) -> Any:
    from valuespectrum.steering.manifest import ExtractManifest, load_manifest

    return load_manifest(path, ExtractManifest)


def _load_eval(path: Path) -> Any:
    from valuespectrum.steering.manifest import EvalManifest, load_manifest

    return load_manifest(path, EvalManifest)


def _load_dilemmas(path: Path) -> Any:
    from valuespectrum.designs.dilemmas.design import DilemmaManifest
    from valuespectrum.manifest import load_config

    return load_config(DilemmaManifest, path)


def _load_decisions(path: Path) -> Any:
    from valuespectrum.designs.decisions.design import DecisionManifest
    from valuespectrum.manifest import load_config

    return load_config(DecisionManifest, path)


def _load_adaem_generate(path: Path) -> Any:
    from valuespectrum.designs.adaem.design import GenerateManifest
    from valuespectrum.manifest import load_config

    return load_config(GenerateManifest, path)


def _load_adaem_evaluate(path: Path) -> Any:
    from valuespectrum.designs.adaem.design import EvaluateManifest
    from valuespectrum.manifest import load_config

    return load_config(EvaluateManifest, path)


def _load_couple(path: Path) -> Any:
    from valuespectrum.designs.couple.design import CoupleManifest
    from valuespectrum.manifest import load_config

    return load_config(CoupleManifest, path)


def _load_judged(path: Path) -> Any:
    from valuespectrum.manifest import load_config
    from valuespectrum.steering.judged_run import JudgedManifest, read_questions

    m = load_config(JudgedManifest, path)
    assert read_questions(path.parent / m.questions)
    return m


LOADERS = {
    "text_probes.yaml": _load_run,
    "mft_items.yaml": _load_run,
    "value_spectrum.yaml": _load_run,
    "wordings.yaml": _load_run,
    "browse.yaml": _load_browse,
    "browse_steered.yaml": _load_browse,
    "dilemmas.yaml": _load_dilemmas,
    "decisions.yaml": _load_decisions,
    "couple.yaml": _load_couple,
    "steer_extract.yaml": _load_extract,
    "steer_eval.yaml": _load_eval,
    "steer_judged.yaml": _load_judged,
    "adaem_generate.yaml": _load_adaem_generate,
    "adaem_evaluate.yaml": _load_adaem_evaluate,
}


def test_every_example_manifest_has_a_loader() -> None:
    assert sorted(p.name for p in MANIFESTS.glob("*.y*ml")) == sorted(LOADERS)


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_example_manifest_parses(name: str) -> None:
    m = LOADERS[name](MANIFESTS / name)
    assert m is not None


def _with_mock_models(raw: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """The manifest with every non-mock model replaced by the mock (same label and settings)."""
    models = []
    for entry in raw["models"]:
        if entry["spec"] != "mock":
            entry = {**entry, "spec": "mock", "options": options}
        models.append(entry)
    return {**raw, "models": models}


def test_value_spectrum_example_runs_on_the_mock(tmp_path: Path, demo_index: Path) -> None:
    from valuespectrum.manifest import parse_manifest
    from valuespectrum.runs.execute import execute_run
    from valuespectrum.runs.score import score_run

    raw = yaml.safe_load((MANIFESTS / "value_spectrum.yaml").read_text(encoding="utf-8"))
    raw = _with_mock_models(raw, {"default": "No"})
    raw["probes"]["from_index"]["data_dir"] = str(demo_index)
    raw["cache"] = False
    m = parse_manifest(raw, "manifests/value_spectrum.yaml (SmolLM2 replaced by the mock)")
    outcome = execute_run(m, base=MANIFESTS, out=tmp_path / "run")
    summary = score_run(outcome.folder)
    assert summary["n_failed"] == 0 and summary["n_unparsed"] == 0
    # two models; the SmolLM2 stand-in reads text only, the mock VLM both modalities
    assert {(g["model"], g["modality"]) for g in summary["groups"]} == {
        ("SmolLM2-135M", "text"),
        ("mock-vlm", "vision"),
        ("mock-vlm", "text"),
    }


def test_browse_example_runs_on_the_mock(tmp_path: Path, demo_index: Path) -> None:
    from agents.manifest import parse_browse_manifest
    from agents.session import execute_browse

    raw = yaml.safe_load((MANIFESTS / "browse.yaml").read_text(encoding="utf-8"))
    raw = _with_mock_models(raw, {"default": "watch", "logprobs": True})
    raw["index"]["data_dir"] = str(demo_index)
    m = parse_browse_manifest(raw, "manifests/browse.yaml (SmolLM2 replaced by the mock)")
    outcome = execute_browse(m, base=MANIFESTS, out=tmp_path / "browse")
    assert outcome.n_failed == 0
    assert outcome.folder.summary.is_file()


def test_couple_block(tmp_path: Path) -> None:
    env = user_copy(tmp_path)
    _check(run_block(readme_block(COUPLE), tmp_path, env, timeout=300), "the COUPLE block")
    summary = tmp_path / "runs" / "couple-demo" / "summary.json"
    assert summary.is_file() and (tmp_path / "runs" / "couple-demo" / "report.html").is_file()
