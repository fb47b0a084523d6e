"""Prompt wordings: rendering, manifest validation, record ids, and the wording statistics on
constructed score tables (expected numbers computed by hand in the comments)."""

from __future__ import annotations

import math

import pytest

from valuespectrum.errors import ConfigError
from valuespectrum.manifest import parse_manifest
from valuespectrum.probes.bank import list_banks, load_bank
from valuespectrum.probes.render import render_probe
from valuespectrum.probes.schema import AnswerFormat, Probe
from valuespectrum.probes.wordings import BUILTIN_WORDINGS, Wording
from valuespectrum.runs.log import ScoreLine
from valuespectrum.runs.records import record_id, without_repeat
from valuespectrum.scoring.items import ItemScore
from valuespectrum.scoring.parse import ParsedAnswer
from valuespectrum.scoring.wordings import reduce_repeats, reduce_scores, summarise_wordings
from valuespectrum.values import Value


def _text(probe: Probe, **kw: object) -> str:
    return render_probe(probe, **kw).request.messages[-1].content[-1].text  # type: ignore[arg-type, union-attr]


# ---------------------------------------------------------------- rendering


@pytest.mark.parametrize("bank", list_banks())
def test_three_builtin_wordings_give_three_prompts_per_bank_and_order(bank: str) -> None:
    probe = load_bank(bank).probes[0]
    for reverse in (False, True):
        texts = {
            w: _text(probe, reverse_labels=reverse, wording=BUILTIN_WORDINGS[w]) for w in BUILTIN_WORDINGS
        }
        assert len(set(texts.values())) == 3  # default, direct, reflective all differ
        assert probe.text in texts["direct"] and probe.text in texts["reflective"]
    # the default wording is the prompt runs without wordings always sent, byte for byte
    for reverse in (False, True):
        assert _text(probe, reverse_labels=reverse, wording=BUILTIN_WORDINGS["default"]) == _text(
            probe, reverse_labels=reverse
        )


def test_wordings_keep_the_label_order_visible() -> None:
    agree = load_bank("agreement").probes[0]
    direct = BUILTIN_WORDINGS["direct"]
    assert _text(agree, wording=direct).endswith("Reply Yes or No, nothing else.")
    assert _text(agree, reverse_labels=True, wording=direct).endswith("Reply No or Yes, nothing else.")
    portrait = load_bank("portrait").probes[0]
    rev = _text(portrait, reverse_labels=True, wording=BUILTIN_WORDINGS["reflective"])
    assert "from 1 (very much like me) to 6 (not like me at all):\n1 = very much like me\n" in rev
    assert rev.endswith("6 = not like me at all\nWrite just one number.")


def test_vqa_question_and_item_instructions() -> None:
    vqa = Probe(
        id="v1",
        text="Do you like the content of this video?",
        format=AnswerFormat.yes_no(),
        keys={"Hedonism": 1},
        media=[{"path": "a.jpg"}, {"path": "b.jpg"}],
    )
    text = _text(vqa, wording=BUILTIN_WORDINGS["direct"])
    assert text == "Would you enjoy this video?\n\nReply Yes or No, then give your reason in one sentence."
    own = vqa.model_copy(update={"metadata": {"instruction": "Say Yes or No."}})
    assert _text(own, wording=BUILTIN_WORDINGS["reflective"]).endswith("Say Yes or No.")


def test_a_wording_without_a_kind_keeps_the_default_text() -> None:
    only_choice = Wording.model_validate({"id": "mine", "choice": {"instruction": "Pick one letter."}})
    portrait, dilemma = load_bank("portrait").probes[0], load_bank("dilemma").probes[0]
    assert _text(portrait, wording=only_choice) == _text(portrait)
    assert _text(dilemma, wording=only_choice).endswith("\n\nPick one letter.")


# ---------------------------------------------------------------- manifests


def _manifest(**over: object):  # type: ignore[no-untyped-def]
    return parse_manifest({"models": [{"spec": "mock"}], **over}, "w.yaml")


@pytest.mark.parametrize(
    ("wordings", "field", "says"),
    [
        (
            [{"id": "a", "likert": {"instruction": "Q?", "scale": "{lo} to {top}"}}],
            "wordings.0.likert.scale",
            "top",
        ),
        (
            [{"id": "a", "yes_no": {"instruction": "Answer yes or no."}}],
            "wordings.0.yes_no.instruction",
            "{first}",
        ),
        ([{"id": "a", "choice": {"instruction": "Pick", "extra": 1}}], "wordings.0.choice.extra", "xtra"),
        (["default", "nope"], "wordings", "built-in wordings are ['default', 'direct', 'reflective']"),
        (["direct", {"id": "direct"}], "wordings", "repeated: ['direct']"),
        ([{"id": "bad id"}], "wordings.0.id", "wording id"),
    ],
)
def test_bad_wordings_name_the_field(wordings: object, field: str, says: str) -> None:
    with pytest.raises(ConfigError) as err:
        _manifest(wordings=wordings)
    assert f"w.yaml: field '{field}'" in str(err.value) and says in str(err.value)


def test_deterministic_repeats_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"generation\.temperature 0 would ask the same greedy question"):
        _manifest(repeats=3)
    with pytest.raises(ConfigError, match=r"scoring\.use_logprobs: false"):
        _manifest(repeats=3, generation={"temperature": 0.7})
    m = _manifest(
        repeats=3, generation={"temperature": 0.7}, scoring={"use_logprobs": False, "reducer": "mode"}
    )
    assert m.repeats == 3 and m.scoring.reducer == "mode"


def test_manifests_without_wordings_dump_as_before() -> None:
    # no new keys: stored manifests, digests and answer identities of earlier runs stay equal
    dumped = _manifest().model_dump(mode="json")
    assert "wordings" not in dumped and "repeats" not in dumped and "reducer" not in dumped["scoring"]
    worded = _manifest(wordings=["default", "direct"]).model_dump(mode="json")
    assert worded["wordings"][1]["yes_no"]["instruction"] == "Reply {first} or {second}, nothing else."


def test_record_ids_name_wording_and_repeat_only_when_asked() -> None:
    assert record_id("m", "none", "p1", "fwd") == "m|none|p1|fwd"
    assert record_id("m", "none", "p1", "rev", "text", wording="direct") == "m|none|p1|rev|text|w=direct"
    rid = record_id("m", "none", "p1", "rev", wording="direct", repeat=2)
    assert rid == "m|none|p1|rev|w=direct|r=2"
    assert without_repeat(rid) == "m|none|p1|rev|w=direct"
    assert without_repeat("m|none|p|r=x|fwd") == "m|none|p|r=x|fwd"


# ---------------------------------------------------------------- reducers


def test_reducers() -> None:
    assert reduce_scores([2, 2, 5], "mean") == 3.0
    assert reduce_scores([2, 2, 5], "mode") == 2.0
    assert reduce_scores([1, 5, 5, 1, 3], "mode") == 3.0  # 1 and 5 tie: their mean
    items = [
        ItemScore(
            probe_id="p", value=Value.POWER, score=s, kind="rating", weight=1.0, raw=s, answer_id=f"a|r={r}"
        )
        for r, s in enumerate([6.0, 6.0, 3.0])
    ]
    (mean,) = reduce_repeats(items, "mean")
    (mode,) = reduce_repeats(items, "mode")
    assert (mean.score, mean.raw, mean.answer_id) == (5.0, 5.0, "a")
    assert (mode.score, mode.raw) == (6.0, 6.0)


# ---------------------------------------------------------------- the wording statistics


def _line(
    wording: str, order: str, persona: str, probe: str, value: Value, score: float, repeat: int = 0
) -> ScoreLine:
    rid = record_id("m", persona, probe, order, wording=wording, repeat=repeat)  # type: ignore[arg-type]
    return ScoreLine(
        record_id=rid,
        model="m",
        persona=persona,
        probe_id=probe,
        order=order,  # type: ignore[arg-type]
        wording=wording,
        repeat=repeat,
        answer=ParsedAnswer(status="parsed", value=score, method="logprob"),
        items=[ItemScore(probe_id=probe, value=value, score=score, kind="rating", weight=1.0, raw=score)],
    )


def test_decomposition_of_an_additive_crossed_table() -> None:
    # score = 1 + wording (w1 0, w2 2) + order (fwd 0, rev 1) + item (i1 0, i2 4); two personas
    # with no effect; 2x2x2x2 = 16 scores. Each two-level factor with difference D has
    # SS = 16 (D/2)^2: wording 16, order 4, item 64, persona 0; total 84, no interaction.
    lines = [
        _line(w, o, p, i, v, 1 + dw + do + di)
        for w, dw in (("w1", 0), ("w2", 2))
        for o, do in (("fwd", 0), ("rev", 1))
        for p in ("none", "p")
        for i, v, di in (("i1", Value.POWER, 0), ("i2", Value.SECURITY, 4))
    ]
    block = summarise_wordings(lines, n_boot=0)
    assert block is not None
    (dec,) = block.decomposition
    assert dec.n_scores == 16 and dec.balanced
    assert dec.shares["wording"] == pytest.approx(16 / 84)
    assert dec.shares["order"] == pytest.approx(4 / 84)
    assert dec.shares["item"] == pytest.approx(64 / 84)
    assert dec.shares["persona"] == pytest.approx(0.0)
    assert dec.residual == pytest.approx(0.0, abs=1e-12)


def test_profiles_spread_agreement_and_icc_per_wording() -> None:
    # true ratings of three one-item values in three wordings (both orders give the same):
    #            SD  PO  UN
    #   default   5   2   3
    #   direct    6   1   2
    #   reflect   4   4   6
    ratings = {"default": (5, 2, 3), "direct": (6, 1, 2), "reflect": (4, 4, 6)}
    values = (Value.SELF_DIRECTION, Value.POWER, Value.UNIVERSALISM)
    lines = [
        _line(w, o, "none", f"i{k}", v, r)
        for w, rs in ratings.items()
        for o in ("fwd", "rev")
        for k, (v, r) in enumerate(zip(values, rs, strict=True))
    ]
    block = summarise_wordings(lines, n_boot=0)
    assert block is not None and block.wordings == ["default", "direct", "reflect"]
    (g,) = block.groups
    assert g.profiles["direct"]["Self-Direction"] == 6.0 and g.profiles["reflect"]["Power"] == 4.0
    assert g.profiles["default"]["Hedonism"] is None
    # SD: 5, 6, 4 -> population SD sqrt(2/3); PO: 2, 1, 4 -> sqrt(14/9); UN: 3, 2, 6 -> sqrt(26/9)
    assert g.spread["Self-Direction"] == pytest.approx(math.sqrt(2 / 3))
    assert g.spread["Power"] == pytest.approx(math.sqrt(14 / 9))
    assert g.mean_spread == pytest.approx((math.sqrt(2 / 3) + math.sqrt(14 / 9) + math.sqrt(26 / 9)) / 3)
    # default and direct rank the values alike (rho = tau = 1); reflect ties SD with PO: rho 0, tau 0
    rho = {(p.a, p.b): p.spearman for p in g.pairs}
    assert rho[("default", "direct")] == pytest.approx(1.0)
    assert rho[("default", "reflect")] == pytest.approx(0.0, abs=1e-12)
    assert g.mean_spearman == pytest.approx(1 / 3) and g.mean_kendall == pytest.approx(1 / 3)
    # MS rows 16/3, MS cols 7/3, MS error 8/3: ICC(3,1) = (8/3) / (32/3) = 0.25,
    # ICC(2,1) = (8/3) / (16/3 + 16/3 + 3 (7/3 - 8/3) / 3) = 8/31
    assert g.icc_consistency == pytest.approx(0.25) and g.icc_agreement == pytest.approx(8 / 31)
    assert g.icc_n_values == 3


def test_repeats_are_reduced_before_the_profiles() -> None:
    lines = [
        _line("w1", "fwd", "none", "i1", Value.POWER, s, repeat=r) for r, s in enumerate([6.0, 6.0, 3.0])
    ] + [_line("w2", "fwd", "none", "i1", Value.POWER, 2.0, repeat=r) for r in range(3)]
    mean = summarise_wordings(lines, reducer="mean", repeats=3, n_boot=0)
    mode = summarise_wordings(lines, reducer="mode", repeats=3, n_boot=0)
    assert mean is not None and mode is not None
    assert mean.groups[0].profiles["w1"]["Power"] == 5.0 and mode.groups[0].profiles["w1"]["Power"] == 6.0
    assert mean.groups[0].n_answers == {"w1": 1, "w2": 1}
    assert mean.decomposition[0].n_scores == 2


def test_wording_effect_permutation_test_by_hand() -> None:
    from valuespectrum.scoring.reliability import benjamini_hochberg, holm
    from valuespectrum.scoring.wordings import wording_effect_test

    # items (1, 3) and (2, 6) in wordings w1, w2: wording means 1.5, 4.5 -> statistic 4.5; of the
    # 4 within-item swaps, two give 4.5 and two give 0.5, so p = 2/4
    assert wording_effect_test([[1, 3], [2, 6]]) == (4.5, 0.5, True)
    # one item: every arrangement has the same spread of wording means, p = 1
    assert wording_effect_test([[5, 6, 4]])[1:] == (1.0, True)
    # past the exact limit: a seeded Monte Carlo p-value, the same on every call
    big = [[i, i + 1, i + 3] for i in range(8)]  # 6^8 arrangements
    stat, p, exact = wording_effect_test(big, seed=3)
    assert not exact and stat == pytest.approx((0 - 4 / 3) ** 2 + (1 - 4 / 3) ** 2 + (3 - 4 / 3) ** 2)
    assert p == wording_effect_test(big, seed=3)[1] and p < 0.01
    lines = [
        _line(w, "fwd", "none", f"{tag}{k}", v, s)
        for tag, v, table in (("a", Value.POWER, [[1, 3], [2, 6]]), ("b", Value.SECURITY, [[1, 1], [2, 2]]))
        for k, row in enumerate(table)
        for w, s in zip(("w1", "w2"), row, strict=True)
    ]
    block = summarise_wordings(lines, n_boot=0)
    assert block is not None
    eff = block.groups[0].effects
    assert eff["Power"].p_value == 0.5 and eff["Power"].n_items == 2 and eff["Security"].p_value == 1.0
    ps = [eff["Power"].p_value, eff["Security"].p_value]
    assert [eff["Power"].p_holm, eff["Security"].p_holm] == holm(ps)
    assert [eff["Power"].p_bh, eff["Security"].p_bh] == benjamini_hochberg(ps)
