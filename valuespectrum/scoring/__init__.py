"""Scoring: read answers as they were asked (:func:`interpret`), score items against value keys,
build and compare value profiles."""

from valuespectrum.scoring.interpret import interpret
from valuespectrum.scoring.items import ItemScore, ScoreKind, score_item
from valuespectrum.scoring.parse import AnswerValue, ParsedAnswer, parse_answer, parse_text, tally
from valuespectrum.scoring.profile import (
    Comparison,
    ValueProfile,
    build_profile,
    compare_profiles,
    profile_from_answers,
)
from valuespectrum.scoring.stats import bootstrap_ci, cronbach_alpha, spearman, value_alpha

__all__ = [
    "AnswerValue",
    "Comparison",
    "ItemScore",
    "ParsedAnswer",
    "ScoreKind",
    "ValueProfile",
    "bootstrap_ci",
    "build_profile",
    "compare_profiles",
    "cronbach_alpha",
    "interpret",
    "parse_answer",
    "parse_text",
    "profile_from_answers",
    "score_item",
    "spearman",
    "tally",
    "value_alpha",
]
