"""COUPLE: respond as a given value profile would (attribution, intervention, counterfactual answer)."""
