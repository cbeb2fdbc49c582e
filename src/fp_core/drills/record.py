"""``drills/<drill_id>.json``: what a drill expected, what was observed, and whether they agree."""

from __future__ import annotations

from typing import Any

from fp_core.model import FrozenModel


class DrillRecord(FrozenModel):
    """A drill's evidence: what was expected, what was observed, and whether they agree."""

    drill_id: str
    description: str
    expected: dict[str, Any]
    observed: dict[str, Any]
    passed: bool


def verdict(drill_id: str, description: str, expected: dict[str, Any], observed: dict[str, Any]) -> DrillRecord:
    """A drill passes iff every expected key is observed with the same value."""
    passed = all(observed.get(k) == v for k, v in expected.items())
    return DrillRecord(drill_id=drill_id, description=description, expected=expected, observed=observed,
                       passed=passed)
