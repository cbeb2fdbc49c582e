"""origin_offset evidence and the replay anchors summarised from it (law 7.3)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from fp_core.model import FrozenModel

Offset = Annotated[int, Field(ge=0)]


# Plain data: one is built per record consumed and per delivery report. Pydantic validates it inside the
# evidence models that hold it (non-negative partition and offset, no other fields).
@dataclass(frozen=True, slots=True)
class OriginOffset:
    """Where one record sits on the bus."""

    topic: str
    partition: Annotated[int, Field(ge=0)]
    offset: Offset


class OffsetRange(FrozenModel):
    """An inclusive range of consumed offsets in one topic partition."""

    topic: str
    partition: Annotated[int, Field(ge=0)]
    start_offset: Offset
    end_offset: Offset

    @property
    def count(self) -> int:
        return self.end_offset - self.start_offset + 1


def summarise_offsets(offsets: Iterable[OriginOffset]) -> list[OffsetRange]:
    """Min/max offset per topic partition, sorted by topic then partition."""
    bounds: dict[tuple[str, int], tuple[int, int]] = {}
    for o in offsets:
        key = (o.topic, o.partition)
        lo, hi = bounds.get(key, (o.offset, o.offset))
        bounds[key] = (min(lo, o.offset), max(hi, o.offset))
    return [
        OffsetRange(topic=t, partition=p, start_offset=lo, end_offset=hi)
        for (t, p), (lo, hi) in sorted(bounds.items())
    ]


def merge_ranges(ranges: Iterable[OffsetRange]) -> list[OffsetRange]:
    """Combine range summaries (e.g. per batch) into one per topic partition."""
    return summarise_offsets(
        OriginOffset(topic=r.topic, partition=r.partition, offset=o)
        for r in ranges
        for o in (r.start_offset, r.end_offset)
    )
