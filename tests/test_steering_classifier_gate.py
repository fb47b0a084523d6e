"""External-classifier gate: value scores from a local classifier folder, thresholds by rate and F1."""

from __future__ import annotations

import numpy as np
import pytest

from tests.tiny_models import build_tiny_text_lm
from valuespectrum.errors import ConfigError
from valuespectrum.steering.classifier_gate import ClassifierGate, threshold_by_f1, threshold_for_rate
from valuespectrum.values import Value

torch = pytest.importorskip("torch")

LABELS = {0: "Self-direction: thought", 1: "Self-direction: action", 2: "Power: dominance"}


def _classifier(tmp_path):
    from valuespectrum.compat import ensure_torch_stack

    ensure_torch_stack()
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(build_tiny_text_lm(family="llama"))
    cfg = AutoConfig.for_model(
        "llama", vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, num_labels=3, id2label=LABELS,
        label2id={v: k for k, v in LABELS.items()}, problem_type="multi_label_classification",
        pad_token_id=tok.pad_token_id,
    )  # fmt: skip
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_config(cfg)
    model.save_pretrained(tmp_path / "clf")
    tok.save_pretrained(tmp_path / "clf")
    return tmp_path / "clf", model.eval(), tok


def test_value_score_is_the_mean_label_probability_and_gates_by_threshold(tmp_path):
    folder, model, tok = _classifier(tmp_path)
    texts = ["He likes surprises", "Tradition, security, power", "Yes no"]
    gate = ClassifierGate(folder, thresholds={Value.SELF_DIRECTION: 0.5}, low_thresholds={Value.POWER: 0.2})
    assert gate.value_map == {Value.SELF_DIRECTION: [LABELS[0], LABELS[1]], Value.POWER: [LABELS[2]]}
    with torch.no_grad():
        probs = [
            torch.sigmoid(model(**tok(t, return_tensors="pt")).logits[0].double()).numpy() for t in texts
        ]
    want = np.array([(p[0] + p[1]) / 2 for p in probs])
    np.testing.assert_allclose(gate.scores(texts, Value.SELF_DIRECTION), want, atol=1e-6)
    assert gate.decide(texts, Value.SELF_DIRECTION) == [bool(w > 0.5) for w in want]
    power = np.array([p[2] for p in probs])
    assert gate.decide(texts, Value.POWER) == [bool(x > 0.5 or x < 0.2) for x in power]
    with pytest.raises(ConfigError, match="no classifier label"):
        gate.scores(texts, Value.TRADITION)
    with pytest.raises(ConfigError, match="does not have"):
        ClassifierGate(folder, value_map={Value.POWER: ["Power: resources"]})
    with pytest.raises(ConfigError, match=r"config\.json"):
        ClassifierGate(tmp_path)


def test_thresholds_by_rate_and_by_f1():
    t = threshold_for_rate([0.9, 0.2, 0.6, 0.4], 0.5)
    assert sum(s > t for s in [0.9, 0.2, 0.6, 0.4]) == 2 and 0.4 < t < 0.6
    t, f1 = threshold_by_f1([0.9, 0.8, 0.3, 0.1], [True, False, True, False])
    # just below 0.3: predictions T T T F, TP 2 -> F1 = 4 / (3 + 2) = 0.8
    assert f1 == pytest.approx(0.8) and 0.1 < t < 0.3
    with pytest.raises(ConfigError):
        threshold_for_rate([0.5], 0.0)
