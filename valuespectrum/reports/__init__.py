"""Reports for run folders (``vspec report``) and comparisons across runs (``vspec compare``).

Heavy dependencies (matplotlib, pandas) load only when a report is built.
"""

from __future__ import annotations

from valuespectrum.reports.page import Figure, Section, Table
from valuespectrum.reports.sections import ENTRY_POINT_GROUP, register_section

__all__ = ["ENTRY_POINT_GROUP", "Figure", "Section", "Table", "register_section"]
