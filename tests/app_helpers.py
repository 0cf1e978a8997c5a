"""Shared by the app tests: the workshop guide's text, card A's levers, a stepped AppModel."""

from __future__ import annotations

from pathlib import Path

from sim.app.model import AppModel

ROOT = Path(__file__).resolve().parents[1]
GUIDE = (ROOT / "docs" / "workshop.md").read_text()
CARD_A = {"inclusion_effort": 0.0, "conflict_handling": 0.0}


def stepped(months: int, **kwargs: object) -> AppModel:
    """An AppModel (keyword levers) after ``months`` Steps."""
    model = AppModel(**kwargs)  # type: ignore[arg-type]
    for _ in range(months):
        model.step()
    return model
