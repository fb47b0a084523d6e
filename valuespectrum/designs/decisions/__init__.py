"""Value-driven decisions (ValuePilot layout): assessors, multi-criteria ranking, comparisons."""
