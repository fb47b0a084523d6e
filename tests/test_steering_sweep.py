"""Layer x strength sweep: slope, Spearman and the held-out choice; pair preference on a tiny Llama."""

from __future__ import annotations

import pytest

from tests.tiny_models import load_tiny_text_lm
from valuespectrum.errors import ConfigError
from valuespectrum.neurons.aspects import AspectText
from valuespectrum.steering.sweep import steerability, sweep

torch = pytest.importorskip("torch")


def test_sweep_picks_the_steepest_monotone_layer_and_reports_the_held_out_effect():
    table = {
        0: {1.0: 1.0, 2.0: 2.0, 4.0: 4.0},
        1: {1.0: 3.0, 2.0: 0.0, 4.0: 5.0},
        2: {1.0: 0.5, 2.0: 1.0, 4.0: 2.0},
    }
    calls = []

    def score(layer, s, split):
        calls.append((layer, s, split))
        base = 10.0
        if s == 0.0:
            return base
        return base + (table[layer][s] if split == "select" else 0.9 * table[layer][s])

    res = sweep(score, [0, 1, 2], [0.0, 1.0, 2.0, 4.0])
    # layer 1: slope (3 + 0 + 20) / 21 is the largest, but its Spearman is 0.5 < 0.8
    assert res.curves[1].slope == pytest.approx(23 / 21)
    assert res.curves[1].spearman == pytest.approx(0.5)
    assert res.curves[0].slope == pytest.approx(1.0) and res.curves[0].spearman == pytest.approx(1.0)
    assert (res.layer, res.strength) == (0, 4.0)
    assert res.select_effect == pytest.approx(4.0)
    assert res.test_effect == pytest.approx(3.6)
    assert res.test_slope == pytest.approx(0.9)
    # the held-out split is read only for the chosen layer
    assert {c[0] for c in calls if c[2] == "test"} == {0}
    # with no monotone layer every layer is eligible
    assert sweep(score, [1, 2], [1.0, 2.0, 4.0], min_spearman=1.1).layer == 1
    with pytest.raises(ConfigError):
        sweep(score, [0], [0.0])
    assert steerability([1.0, 2.0], [0.0, 0.0]) == (0.0, 0.0)


def test_pair_preference_matches_a_hand_computed_log_likelihood():
    from valuespectrum.steering.preference import preference, span_logprobs, vector_scorer
    from valuespectrum.steering.vectors import SteeringVector
    from valuespectrum.values import Value

    _, model, tok = load_tiny_text_lm("llama")
    scen = "Yes no yes\n"
    a = [AspectText(scen + "He likes surprises", len(scen), "p1"), AspectText(scen + "No", len(scen), "p2")]
    b = [AspectText(scen + "Tradition and power", len(scen), "p1"), AspectText(scen + "Yes", len(scen), "p2")]
    got = span_logprobs(model, tok, a + b, batch_size=3)
    # by hand for the first text: mean log p of the tokens after the scenario
    full = tok(a[0].text)["input_ids"]
    n_resp = len(tok(a[0].text, return_offsets_mapping=True)["offset_mapping"])
    offs = tok(a[0].text, return_offsets_mapping=True)["offset_mapping"]
    resp = [k for k in range(1, n_resp) if offs[k][1] > len(scen)]
    with torch.no_grad():
        lp = torch.log_softmax(model(input_ids=torch.tensor([full])).logits[0].double(), -1)
    hand = sum(float(lp[k - 1, full[k]]) for k in resp) / len(resp)
    assert got[0] == pytest.approx(hand, abs=1e-5)
    pref = preference(model, tok, a, b)
    assert pref == pytest.approx(got[:2] - got[2:], abs=1e-5)
    vec = SteeringVector(Value.POWER, "caa", {1: torch.ones(32)}, "tiny", "model.layers.{i}", "")
    score = vector_scorer(model, tok, vec, (a, b), (a, b))
    assert score(1, 0.0, "select") == pytest.approx(float(pref.mean()), abs=1e-6)
    assert score(1, 3.0, "select") != pytest.approx(float(pref.mean()), abs=1e-6)
