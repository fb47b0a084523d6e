"""Evaluation designs beyond single probes: multi-step dilemmas and value-driven decisions."""
