"""CM: case triggers from the bus become append-only case timeline events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fp_core.cases import CaseTrigger, timeline_event_for
from fp_core.ports import BusRecord, CaseStore, TopicPartition


@dataclass
class CaseManager:
    cases: CaseStore
    platform_run_id: str
    appended: int = 0
    foreign: int = 0

    def handle(self, records: Sequence[BusRecord]) -> dict[TopicPartition, int]:
        events = []
        for rec in records:
            trigger = CaseTrigger.model_validate_json(rec.value)
            if trigger.subject.platform_run_id != self.platform_run_id:
                self.foreign += 1
                continue
            events.append(timeline_event_for(trigger))
        self.appended += self.cases.append(events) if events else 0
        return _next_offsets(records)


def _next_offsets(records: Sequence[BusRecord]) -> dict[TopicPartition, int]:
    safe: dict[TopicPartition, int] = {}
    for r in records:
        tp = (r.origin.topic, r.origin.partition)
        safe[tp] = max(safe.get(tp, 0), r.origin.offset + 1)
    return safe
