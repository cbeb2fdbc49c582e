"""The run's fact log: READY, STREAM_COMPLETE and each stage's STAGE_COMPLETE on the control topic.

SR records where the run's READY landed (``run_started.json``, write-once); readers start there
instead of scanning the control topic from its beginning. Every component, and the orchestrator,
learns what has happened to a run from here only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from fp_core import topics
from fp_core.errors import NotFound, PublishAmbiguous
from fp_core.evidence import STARTED_FILE, RunStarted, bundle_prefix
from fp_core.model import FrozenModel
from fp_core.offsets import OriginOffset
from fp_core.ports import BusConsumer, BusProducer, Clock, Log, ObjectStore, OutboundMessage, TopicPartition
from fp_core.services.control import (
    ReadySignal,
    RunFacts,
    StageComplete,
    StreamComplete,
    decode_positions,
    stage_complete,
)


def started_key(platform_run_id: str) -> str:
    return f"{bundle_prefix(platform_run_id)}/{STARTED_FILE}"


class FactLog:
    """The run's facts on the control topic: publish them, and read a run's from its READY on."""

    def __init__(self, producer: BusProducer, consumer: Callable[[str], BusConsumer], objects: ObjectStore,
                 clock: Clock, log: Log) -> None:
        self._producer, self._consumer, self._objects, self._clock, self._log = (
            producer, consumer, objects, clock, log)

    def publish(self, platform_run_id: str, fact: FrozenModel) -> OriginOffset:
        """Append one fact; raises PublishAmbiguous when the broker did not acknowledge it."""
        [delivery] = self._producer.publish([OutboundMessage(topics.CONTROL, platform_run_id.encode(),
                                                             fact.model_dump_json().encode())])
        if delivery.origin is None:
            raise PublishAmbiguous(f"control fact for {platform_run_id} not acknowledged: {delivery.error}")
        return delivery.origin

    def complete(self, platform_run_id: str, stage: str, stats: Mapping[str, Any],
                 scenario_run_id: str = "") -> StageComplete:
        """Record that ``stage`` finished for the run, with its figures (Appendix C.1: both run ids)."""
        fact = stage_complete(platform_run_id, stage, stats, scenario_run_id)
        self.publish(platform_run_id, fact)
        self._log.info("stage.completed", component=stage, platform_run_id=platform_run_id,
                       scenario_run_id=scenario_run_id, stage=stage,
                       **{k: v for k, v in stats.items() if isinstance(v, int | float | str)})
        return fact

    def start_position(self, platform_run_id: str) -> dict[TopicPartition, int]:
        """Where the run's facts begin: READY's offset from ``run_started.json``; the beginning of the
        control topic only for a run whose start record was never written."""
        try:
            started = RunStarted.model_validate_json(self._objects.get(started_key(platform_run_id)))
        except NotFound:
            self._log.warning("facts.no_start_record", platform_run_id=platform_run_id,
                              detail="scanning the control topic from its beginning")
            probe = self._consumer("fp-facts-probe")
            try:
                return dict.fromkeys(probe.end_offsets([topics.CONTROL]), 0)
            finally:
                probe.close()
        at = started.ready_at
        return {(at.topic, at.partition): at.offset}

    def read(self, platform_run_id: str) -> RunFacts:
        """The run's latest fact of each kind, read from its READY up to the current end."""
        consumer = self._consumer("fp-facts-reader")
        try:
            start = self.start_position(platform_run_id)
            end = consumer.end_offsets([topics.CONTROL])
            position = {tp: start.get(tp, end[tp]) for tp in end}
            consumer.assign(position)
            ready: ReadySignal | None = None
            stream: StreamComplete | None = None
            stages: dict[str, StageComplete] = {}
            extra: dict[str, bytes] = {}
            idle = 0
            while (remaining := sum(max(0, end[tp] - position[tp]) for tp in end)) and idle < 20:
                # Ask only for what remains: a poll for more than the topic holds waits out its timeout.
                records = consumer.poll_batch(min(1_000, remaining), 0.5)
                idle = 0 if records else idle + 1
                for r in records:
                    position[(r.origin.topic, r.origin.partition)] = r.origin.offset + 1
                    body = json.loads(r.value)
                    kind = body.get("kind")
                    if kind == "READY" and body["pins"]["platform_run_id"] == platform_run_id:
                        ready = ReadySignal.model_validate_json(r.value)
                    elif body.get("platform_run_id") != platform_run_id:
                        continue
                    elif kind == "STREAM_COMPLETE":
                        stream = StreamComplete.model_validate_json(r.value)
                    elif kind == "STAGE_COMPLETE":
                        stage = StageComplete.model_validate_json(r.value)
                        stages[stage.stage] = stage
                    elif kind == "ANOMALIES":
                        extra[f"ANOMALIES:{body.get('stage')}"] = r.value
                    elif isinstance(kind, str):
                        extra[kind] = r.value
        finally:
            consumer.close()
        if ready is None:
            raise NotFound(f"no READY for {platform_run_id} on {topics.CONTROL}: run SR first")
        return RunFacts(ready, stream, stages, extra)

    def stream_end(self, platform_run_id: str, every_s: float = 0.02) -> StreamEndWatcher:
        return StreamEndWatcher(self._consumer("fp-rtdl-watch"), self.start_position(platform_run_id),
                                platform_run_id, self._clock, every_s)


class StreamEndWatcher:
    """An end-offset source for a consumer that follows a run still being streamed: reads the control
    topic (on its own consumer, from the run's READY) until the run's STREAM_COMPLETE fact appears."""

    def __init__(self, consumer: BusConsumer, start: dict[TopicPartition, int], platform_run_id: str,
                 clock: Clock, every_s: float) -> None:
        self._consumer, self._run, self._clock, self._every = consumer, platform_run_id, clock, every_s
        self._end: dict[TopicPartition, int] | None = None
        self._last = float("-inf")
        consumer.assign(start)

    def __call__(self) -> dict[TopicPartition, int] | None:
        """Never blocks: reads what has arrived, at most every ``every_s`` seconds."""
        now = self._clock.monotonic()
        if self._end is None and now - self._last >= self._every:
            self._last = now
            for r in self._consumer.poll_batch(1_000, 0.0):
                body = json.loads(r.value)
                if body.get("kind") == "STREAM_COMPLETE" and body.get("platform_run_id") == self._run:
                    self._end = decode_positions(StreamComplete.model_validate_json(r.value).end_offsets)
        return self._end

    def close(self) -> None:
        self._consumer.close()
