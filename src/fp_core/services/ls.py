"""LS: truth arrives late as chargeback assertions; recorded append-only, then announced on the bus."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from fp_core import topics
from fp_core.errors import PublishAmbiguous
from fp_core.identity import derive_event_id
from fp_core.labels import LabelSubjectKey, LabelValue, make_assertion
from fp_core.pins import ContextPins
from fp_core.ports import BusProducer, LabelStore, Log, ObjectStore, OutboundMessage
from fp_core.services.control import ReadySignal, StageComplete
from fp_core.services.facts import FactLog

SOURCE = "chargeback"


@dataclass
class LabelService:
    objects: ObjectStore
    labels: LabelStore
    producer: BusProducer
    log: Log
    facts: FactLog
    batch_size: int = 5_000

    def run(self, ready: ReadySignal) -> StageComplete:
        n = self.ingest_truth(ready.pins, ready.label_keys)
        return self.facts.complete(ready.pins.platform_run_id, "ls", {"label_assertions": n},
                                   ready.pins.scenario_run_id)

    def ingest_truth(self, pins: ContextPins, label_keys: Sequence[str]) -> int:
        """Record the oracle's truth labels as assertions; publish each batch only after it is durable."""
        total = 0
        for key in label_keys:
            lines = [json.loads(line) for line in self.objects.get(key).splitlines() if line]
            for i in range(0, len(lines), self.batch_size):
                assertions = [
                    make_assertion(
                        LabelSubjectKey(platform_run_id=pins.platform_run_id,
                                        event_id=derive_event_id(pins.scenario_run_id, "transaction",
                                                                 d["txn_natural_key"])),
                        LabelValue(d["label"]), d["effective_ts_ms"], d["recorded_ts_ms"], SOURCE,
                        pins.scenario_run_id)
                    for d in lines[i:i + self.batch_size]]
                total += self.labels.append(assertions)
                deliveries = self.producer.publish([
                    OutboundMessage(topics.LABEL_EVENTS, pins.platform_run_id.encode(),
                                    a.model_dump_json().encode()) for a in assertions])
                if any(d.origin is None for d in deliveries):
                    raise PublishAmbiguous("label events unacknowledged after durable commit; re-run LS")
        self.log.info("ls.recorded", platform_run_id=pins.platform_run_id, assertions=total)
        return total
