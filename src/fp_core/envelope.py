"""The canonical event envelope every producer hands to IG and IG publishes to the bus."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, Field

from fp_core.model import FrozenModel
from fp_core.pins import ContextPins, Identifier

EVENT_SCHEMA_VERSION = "fp.event.v1"


class EventEnvelope(FrozenModel):
    """One event: identity, type, event time, run pins and the payload the type's schema governs."""

    event_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    event_type: Identifier
    ts_utc: AwareDatetime
    pins: ContextPins
    payload: dict[str, Any]
    schema_version: Identifier = EVENT_SCHEMA_VERSION
    producer: Identifier


def iso_utc(ts_ms: int) -> str:
    """Epoch milliseconds as the envelope's ISO-8601 UTC form (millisecond precision)."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


def ts_ms(ts: datetime) -> int:
    """Event time in epoch milliseconds (the unit of every event-time comparison)."""
    return int(ts.timestamp() * 1000)
