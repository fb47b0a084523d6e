"""Opt-in: SmolLM2-135M-Instruct as a judge, calibrated on a small labelled file of our own.

The test checks that calibration is computed from the judge's real answers (counts add up,
kappa equals the kappa of the reported confusion table); it asserts no level of agreement:
a 135M model is a weak judge and the number is printed for the record.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from smollm2 import needs_smollm2, smollm2_folder

DATA = Path(__file__).parent / "data" / "judge_value_labelled.jsonl"
RUBRIC = (
    "You rate answers for a study of human values. Value: {value}.\n"
    "Question: {question}\nAnswer: {answer}\n\nDoes the answer put {value} first?"
)


@pytest.mark.slow
@pytest.mark.realmodel
@needs_smollm2
def test_smollm2_judge_reports_its_kappa(tmp_path: Path, capsys) -> None:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two compute threads stall when other processes hold the cores
    try:
        _calibrate_both(tmp_path, capsys)
    finally:
        torch.set_num_threads(threads)


def _calibrate_both(tmp_path: Path, capsys) -> None:
    from valuespectrum.backends.hf import HFBackend
    from valuespectrum.judges import Judge, calibrate, cohen_kappa

    backend = HFBackend(str(smollm2_folder()), batch_size=8)
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
