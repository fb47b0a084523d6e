"""Context-controlled versus non-controlled contrast data: construction and the ablation on a planted neuron."""

from __future__ import annotations

import pytest

from valuespectrum.errors import ConfigError
from valuespectrum.neurons.aspects import aspect_texts, parse_contrast
from valuespectrum.neurons.context import context_ablation, context_variant, pairs_variant
from valuespectrum.steering.pairs import ContrastivePair, builtin_pairs
from valuespectrum.values import Value

NEURON = 5
MARK = "~"


def _pairs(n: int = 12) -> list[ContrastivePair]:
    """Benevolence and Power pairs; the aspect-A (Self-Transcendence) text of each carries the marker."""
    out = []
    for k in range(n):
        out.append(
            ContrastivePair(
                f"be-{k}", Value.BENEVOLENCE, f"Scene {k} in the park.", "I help them" + MARK, "I walk on"
            )
        )
        out.append(
            ContrastivePair(
                f"po-{k}", Value.POWER, f"Scene {k} at work.", "I take the lead", "I step back" + MARK
            )
        )
    return out


def test_variants_share_the_a_texts_and_differ_in_the_b_texts_situation():
    pairs = _pairs(5)
    c = parse_contrast("Self-Transcendence:Self-Enhancement")
    side_a, side_b = aspect_texts(pairs, c)
    value_of = {p.id: p.value for p in pairs}
    ca, cb = context_variant(side_a, side_b, value_of, "controlled", seed=3)
    na, nb = context_variant(side_a, side_b, value_of, "non_controlled", seed=3)
    # 5 pairs per value -> 2 couples per value, the fifth dropped; same A texts in both variants
    assert len(ca) == len(cb) == len(na) == len(nb) == 4 and ca == na
    by_text = {t.text: t.pair_id for t in side_b}
    for a, b_c, b_n in zip(ca, cb, nb, strict=True):
        assert by_text[b_c.text] == a.pair_id  # controlled: the same situation
        origin = by_text[b_n.text]
        assert origin != a.pair_id and value_of[origin] is value_of[a.pair_id]  # another pair, same value
        assert b_n.text.split("\n")[0] != a.text.split("\n")[0] and b_n.pair_id == a.pair_id
    with pytest.raises(ConfigError, match="context 'mixed'"):
        context_variant(side_a, side_b, value_of, "mixed")  # type: ignore[arg-type]


def test_pair_level_variant_for_extraction():
    pairs = builtin_pairs()
    assert pairs_variant(pairs, "controlled") == pairs
    nc = pairs_variant(pairs, "non_controlled", seed=1)
    by_id = {p.id: p for p in pairs}
    assert len(nc) == sum(len([p for p in pairs if p.value is v]) // 2 for v in Value)
    for p in nc:
        i, j = (by_id[x] for x in p.id.split("~"))
        assert p.scenario == "" and i.value is j.value is p.value and i.id != j.id
        assert p.positive == f"{i.scenario}\n{i.positive}" and p.negative == f"{j.scenario}\n{j.negative}"
        assert p.render(p.positive) == p.positive


def _planted_model():
    """The tiny Llama with layer-0 neuron 5 firing on the marker token only (exactly 0 elsewhere)."""
    import torch

    from tests.tiny_models import load_tiny_text_lm

    _, model, tok = load_tiny_text_lm()
    mark = tok.convert_tokens_to_ids(MARK)
    with torch.no_grad():
        emb = model.model.embed_tokens.weight
        emb[:, 0] = 0.0
        emb[mark] = 0.0
        emb[mark, 0] = 3.0
        layer = model.model.layers[0]
        layer.self_attn.o_proj.weight[0] = 0.0  # attention writes nothing on dimension 0
        for proj in (layer.mlp.gate_proj, layer.mlp.up_proj):
            proj.weight[:, 0] = 0.0
            proj.weight[NEURON] = 0.0
            proj.weight[NEURON, 0] = 4.0
    return model, tok


def test_ablation_on_a_planted_neuron_finds_it_in_both_variants():
    pytest.importorskip("torch")
    model, tok = _planted_model()
    assert tok.convert_tokens_to_ids(MARK) in tok("I help them~")["input_ids"]
    res = context_ablation(
        model, tok, _pairs(), "Self-Transcendence:Self-Enhancement", k=1, layers=[0], n_random=2, seed=0
    )
    # 24 pairs, 6 held out (12 texts); the 18 training pairs (9 + 9 per value) give 4 + 4 couples
    assert (res.n_train_pairs, res.n_test_texts) == (8, 12)
    for v in ("controlled", "non_controlled"):
        assert res.sets[v].members() == {(0, NEURON)}
        assert res.accuracy[v] == 1.0
        assert len(res.random[v]) == 2
    assert res.jaccard == 1.0
    assert res.as_dict()["accuracy"] == {"controlled": 1.0, "non_controlled": 1.0}
    # the non-controlled texts of the planted case keep every marker on side A
    assert res.sets["non_controlled"].delta[0] > 0


def test_non_controlled_pairs_of_their_own_and_the_locate_setting():
    pytest.importorskip("torch")
    from valuespectrum.neurons.pipeline import locate_contrast

    model, tok = _planted_model()
    pairs = _pairs()
    # ConVA-style non-controlled pairs: no scenario, each sentence its own situation
    own = [
        ContrastivePair(
            f"nc-be-{k}", Value.BENEVOLENCE, "", f"On day {k} I help them" + MARK, f"At noon {k} I walk on"
        )
        for k in range(10)
    ] + [
        ContrastivePair(
            f"nc-po-{k}", Value.POWER, "", f"At noon {k} I take the lead", f"On day {k} I step back" + MARK
        )
        for k in range(10)
    ]
    st = "Self-Transcendence:Self-Enhancement"
    res = context_ablation(model, tok, pairs, st, k=1, layers=[0], n_random=1, non_controlled_pairs=own)
    assert res.sets["non_controlled"].members() == {(0, NEURON)} and res.accuracy == {
        "controlled": 1.0,
        "non_controlled": 1.0,
    }
    with pytest.raises(ConfigError, match="the non-controlled pairs give 4 texts per side; need 8"):
        context_ablation(model, tok, pairs, st, k=1, layers=[0], n_random=1, non_controlled_pairs=own[8:12])
    found = locate_contrast(model, tok, pairs, st, k=1, layers=[0], n_random=1, context="non_controlled")
    assert found.nset.settings["context"] == "non_controlled" and found.stats_a.n_texts == 8
    assert found.nset.members() == {(0, NEURON)} and found.readout.accuracy == 1.0
