"""Load users' own item files (CSV, TSV, JSONL, JSON, Parquet) into a probe bank.

- :mod:`.mapping`: the :class:`ColumnMapping` (which column holds what) and its checks;
- :mod:`.cells`: cell parsing whose errors name the file, the row and the column;
- :mod:`.load`: rows to probes (:func:`load_items`).

Files are read by :mod:`valuespectrum.tables`, the reader recorded-answer files share. Rows are
numbered as the user sees them: in CSV/TSV the header is row 1, so the first item is row 2; in
JSONL the row is the line number; in JSON and Parquet the first record is row 1.
"""

from valuespectrum.probes.importers.load import load_items
from valuespectrum.probes.importers.mapping import ColumnMapping
from valuespectrum.tables import SUFFIXES

__all__ = ["SUFFIXES", "ColumnMapping", "load_items"]
