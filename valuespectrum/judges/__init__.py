"""Model judges for free-text answers, and their calibration against human labels.

``Judge(backend, rubric, labels)`` grades answers by option log-likelihood over the labels
(where the backend gives it) or by text with a strict parser; ``calibrate(judge, file)``
reports exact and within-one agreement, Cohen's kappa (weighted for ordinal labels) and a
confusion matrix. Labels and rubric fields are plain strings: any value system fits.
"""

from valuespectrum.judges.calibration import Calibration, agreement, calibrate, cohen_kappa, read_labelled
from valuespectrum.judges.judge import UNCALIBRATED, Judge, JudgeItem, Judgment, summarize, write_judgments
from valuespectrum.judges.parse import LabelParse, option_choice, parse_label

__all__ = [
    "UNCALIBRATED",
    "Calibration",
    "Judge",
    "JudgeItem",
    "Judgment",
    "LabelParse",
    "agreement",
    "calibrate",
    "cohen_kappa",
    "option_choice",
    "parse_label",
    "read_labelled",
    "summarize",
    "write_judgments",
]
