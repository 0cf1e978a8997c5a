"""Validation: pattern checks (ODD patterns 1-8), published targets (9-11), and the report."""
