"""Archive writer: admitted events to ``archive/`` as write-once objects named by their offset range."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from fp_core.ports import BusRecord, ObjectStore, TopicPartition
from fp_core.services.consuming import Drainer
from fp_core.services.control import ReadySignal, StageComplete, StreamComplete, input_range
from fp_core.services.facts import FactLog


def archive_key(platform_run_id: str, topic: str, partition: int, start: int, end: int) -> str:
    return f"archive/{platform_run_id}/{topic}/p{partition}/{start:012d}-{end:012d}.jsonl"


@dataclass
class ArchiveWriter:
    objects: ObjectStore
    platform_run_id: str
    written: list[str] = field(default_factory=list)

    def handle(self, records: Sequence[BusRecord]) -> dict[TopicPartition, int]:
        by_tp: dict[TopicPartition, list[BusRecord]] = {}
        for r in records:
            by_tp.setdefault((r.origin.topic, r.origin.partition), []).append(r)
        safe: dict[TopicPartition, int] = {}
        for (topic, partition), recs in sorted(by_tp.items()):
            first, last = recs[0].origin.offset, recs[-1].origin.offset
            key = archive_key(self.platform_run_id, topic, partition, first, last)
            lines = [json.dumps({"offset": r.origin.offset,
                                 "key": base64.b64encode(r.key or b"").decode(),
                                 "value": r.value.decode()}, separators=(",", ":")) for r in recs]
            if not self.objects.exists(key):
                self.objects.put(key, ("\n".join(lines) + "\n").encode())
            self.written.append(key)
            safe[(topic, partition)] = last + 1
        return safe


ARCHIVE_GROUP = "fp-archive"


@dataclass
class ArchiveStage:
    """The archive writer for one run: its admitted input range (group ``fp-archive``) to ``archive/``."""

    objects: ObjectStore
    drainer: Drainer
    facts: FactLog

    def run(self, ready: ReadySignal, stream: StreamComplete) -> StageComplete:
        run = ready.pins.platform_run_id
        start, end = input_range(stream)
        writer = ArchiveWriter(self.objects, run)
        resume = self.drainer.resume_positions(ARCHIVE_GROUP, run, start)
        drained = self.drainer.drain(ARCHIVE_GROUP, run, 20_000, resume, end, writer.handle)
        return self.facts.complete(run, "archive", {"consumed": drained.consumed,
                                                    "objects": self.objects.list(f"archive/{run}/")},
                                   ready.pins.scenario_run_id)
