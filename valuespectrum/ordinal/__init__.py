"""Cumulative-logit (proportional-odds) models of raw ratings across models, personas and values.

``OrdinalData.from_runs(run_dirs)`` reads scored runs into a long table (unparsed answers left
out and counted); ``fit_mle`` (statsmodels or scipy) and ``fit_bayes`` (MAP + Laplace) fit it;
``analyse`` adds contrasts, the centred variant and a posterior predictive check;
``ordinal_compare`` writes ``ordinal.json``, a forest plot and ``ordinal.html``.
Values are plain names, so any value system's dimensions work.
"""

from valuespectrum.ordinal.analysis import OrdinalResult, analyse, ordinal_compare
from valuespectrum.ordinal.data import Design, OrdinalData, Rating, build_design
from valuespectrum.ordinal.fit import OrdinalFit, fit_bayes, fit_mle
from valuespectrum.ordinal.summary import ContrastSpec, Estimate, contrast, posterior_predictive

__all__ = [
    "ContrastSpec",
    "Design",
    "Estimate",
    "OrdinalData",
    "OrdinalFit",
    "OrdinalResult",
    "Rating",
    "analyse",
    "build_design",
    "contrast",
    "fit_bayes",
    "fit_mle",
    "ordinal_compare",
    "posterior_predictive",
]
