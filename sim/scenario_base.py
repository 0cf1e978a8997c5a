"""The building blocks of the scenario schema, shared by :mod:`sim.scenario` and its sections.

:class:`_Section` is the base of every scenario table (unknown keys are errors, assignments are
validated) and :func:`_p` declares one parameter with its default, valid range, unit and
meaning. Both are private to the schema modules (``sim/scenario*.py``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    """Base for every scenario table: unknown keys are errors; assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


def _p(default: Any, lo: float | None, hi: float | None, unit: str, doc: str) -> Any:
    """A scenario parameter: default, inclusive valid range [lo, hi], unit and one-line meaning."""
    extra = {"unit": unit}
    return Field(default, ge=lo, le=hi, description=doc, json_schema_extra=extra)
