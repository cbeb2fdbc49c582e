"""Drill names: the one enum every other module uses."""

from __future__ import annotations

from enum import StrEnum


class DrillName(StrEnum):
    """The incident drills a run may ask for (seed 12.4)."""

    DUPLICATES = "duplicates"
    MISSING_CONTEXT = "missing_context"
    LATE_CONTEXT = "late_context"
    PAYLOAD_MISMATCH = "payload_mismatch"
    QUARANTINE = "quarantine"
    LAG = "lag"


ALL_DRILLS: tuple[str, ...] = tuple(d.value for d in DrillName)
