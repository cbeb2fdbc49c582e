"""IG's lanes: one run's admission split over processes without changing a verdict or an offset (D64).

Two things must not depend on how many lanes there are or how fast each runs:
- **what each partition holds, in what order**: every (topic, partition) is written by one lane only, in
  the stream's order (so offsets, and every decision that cites them, are those of a single gate);
- **which copy of a dedupe tuple is first**: every copy of a tuple within one submission goes to the lane
  of its first copy (the lanes of one submission finish before the next submission starts, so an earlier
  submission's claims are durable before any later copy is judged).

A lane is a function of the (topic, partition) an event would be published to, which is a function of its
class (its topic) and its partition key (``fp_core.topics.partition_of``, the bus's keyed partitioner).
Anything the router cannot read (not JSON, no payload object, an unknown type) goes to lane 0: screening
will quarantine it there, and a quarantined event is never published.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from fp_core.event_class import EventClass
from fp_core.topics import PARTITIONS, TOPIC_MAP, partition_of

ROUTED_KEY = "merchant_id"
"""The payload field the router reads: the partition key of every topic IG publishes to."""


class _Payload(msgspec.Struct, gc=False):
    merchant_id: Any = None


class _Head(msgspec.Struct, gc=False):
    """What routing reads of an envelope; every other field is skipped unparsed."""

    event_id: Any = None
    event_type: Any = None
    payload: _Payload | None = None


_decode_head = msgspec.json.Decoder(_Head).decode


class LaneRouter:
    """Which of ``lanes`` lanes admits each event of a submission."""

    def __init__(self, class_map: Mapping[str, EventClass], lanes: int) -> None:
        if lanes < 1:
            raise ValueError(f"lanes: {lanes} (at least 1)")
        topics = sorted({cls.topic for cls in class_map.values()})
        keyed_otherwise = [s.name for s in TOPIC_MAP if s.name in topics and s.partition_key != ROUTED_KEY]
        if keyed_otherwise:
            raise ValueError(f"class_map: topic(s) {keyed_otherwise} not keyed by {ROUTED_KEY}")
        self.lanes = lanes
        self._class_map = class_map
        # (topic, partition) slots dealt round-robin, topic by topic, each topic starting where the last
        # ended: every lane gets its share of every topic's partitions as evenly as the counts allow.
        slots = [(t, p) for t in topics for p in range(PARTITIONS[t])]
        self._lane_of_slot = {slot: i % lanes for i, slot in enumerate(slots)}

    def lane_of_slot(self, topic: str, partition: int) -> int:
        return self._lane_of_slot[(topic, partition)]

    def route(self, raws: Sequence[bytes]) -> list[int]:
        """One lane per event, in input order."""
        if self.lanes == 1:
            return [0] * len(raws)
        out: list[int] = []
        first_lane: dict[tuple[str, str], int] = {}
        class_map, lane_of_slot = self._class_map, self._lane_of_slot
        for raw in raws:
            try:
                head = _decode_head(raw)
            except (msgspec.DecodeError, msgspec.ValidationError):
                out.append(0)
                continue
            cls = class_map.get(head.event_type) if isinstance(head.event_type, str) else None
            key = head.payload.merchant_id if head.payload is not None else None
            if cls is None or not isinstance(head.event_id, str) or not isinstance(key, str):
                out.append(0)
                continue
            try:
                lane = lane_of_slot[(cls.topic, partition_of(key.encode(), PARTITIONS[cls.topic]))]
            except UnicodeError:  # a lone surrogate: screening quarantines it
                out.append(0)
                continue
            out.append(first_lane.setdefault((cls.name, head.event_id), lane))
        return out
