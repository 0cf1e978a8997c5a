"""Validation: pattern checks (MODEL.md 1-8), published targets (9-11), and the report."""
