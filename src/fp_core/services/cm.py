"""CM: case triggers from the bus become append-only case timeline events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fp_core import topics
from fp_core.cases import CaseTrigger, timeline_event_for
from fp_core.ports import BusRecord, CaseStore, TopicPartition
from fp_core.services.consuming import Drainer, OffsetProbe
from fp_core.services.control import ReadySignal, StageComplete, StreamComplete, decode_positions
from fp_core.services.facts import FactLog


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


CM_GROUP = "fp-cm"


@dataclass
class CmStage:
    """CM for one run: its case triggers (group ``fp-cm``) into case timelines."""

    cases: CaseStore
    drainer: Drainer
    probe: OffsetProbe
    facts: FactLog

    def run(self, ready: ReadySignal, stream: StreamComplete) -> StageComplete:
        run = ready.pins.platform_run_id
        start = {tp: o for tp, o in decode_positions(stream.start_offsets).items() if tp[0] == topics.CASE_TRIGGERS}
        end = self.probe.end_offsets([topics.CASE_TRIGGERS])
        cm = CaseManager(self.cases, run)
        resume = self.drainer.resume_positions(CM_GROUP, run, start)
        drained = self.drainer.drain(CM_GROUP, run, 5_000, resume, end, cm.handle)
        return self.facts.complete(run, "cm", {"consumed": drained.consumed, "case_events": cm.appended,
                                               "other_runs": cm.foreign}, ready.pins.scenario_run_id)
