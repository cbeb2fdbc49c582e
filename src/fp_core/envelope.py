"""The canonical event envelope every producer hands to IG and IG publishes to the bus."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field, field_validator

from fp_core.model import FrozenModel
from fp_core.pins import ContextPins, Identifier

EVENT_SCHEMA_VERSION = "fp.event.v1"
EVENT_ID_PATTERN = r"^[0-9a-f]{32}$"
RFC3339_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"


class EventEnvelope(FrozenModel):
    """One event: identity, type, event time, run pins and the payload the type's schema governs."""

    event_id: Annotated[str, Field(pattern=EVENT_ID_PATTERN)]
    event_type: Identifier
    ts_utc: Annotated[str, Field(pattern=RFC3339_PATTERN)]
    """RFC 3339 with an upper-case ``T`` and a ``Z`` or ``±HH:MM`` offset: exactly what every consumer
    parses (``datetime.fromisoformat``); checked by pattern, then parsed once here."""
    pins: ContextPins
    payload: dict[str, Any]
    schema_version: Identifier = EVENT_SCHEMA_VERSION
    producer: Identifier

    @field_validator("ts_utc")
    @classmethod
    def _parses(cls, value: str) -> str:
        if datetime.fromisoformat(value).tzinfo is None:  # ValueError names the field; pattern ensures tz
            raise ValueError("must carry a time zone")
        return value


@functools.lru_cache(maxsize=4_096)
def _iso_second(second: int) -> str:
    return datetime.fromtimestamp(second, tz=UTC).isoformat()


def iso_utc(ts_ms: int) -> str:
    """Epoch milliseconds as the envelope's ISO-8601 UTC form (millisecond precision): the form
    ``datetime.isoformat(timespec="milliseconds")`` gives, with the second's text formatted once (events
    come in event-time order, so consecutive ones share it; WSP encodes one per event)."""
    second, ms = divmod(ts_ms, 1000)
    return f"{_iso_second(second)[:19]}.{ms:03d}+00:00"


def ts_ms(ts: datetime) -> int:
    """Event time in epoch milliseconds (the unit of every event-time comparison)."""
    return int(ts.timestamp() * 1000)
