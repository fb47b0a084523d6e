"""valuespectrum: measure, compare and steer the Schwartz values of VLMs and LLMs.

The package root stays import-light (no torch, no video libraries) so that the CLI
answers quickly; heavy backends load lazily when used.
"""

from valuespectrum.values import CIRCUMPLEX, HigherOrder, Value, parse_value

__version__ = "0.1.0"
__all__ = ["CIRCUMPLEX", "HigherOrder", "Value", "__version__", "parse_value"]
