"""The control topic as the run's fact log: READY, STREAM_COMPLETE and each stage's completion.

Standalone components read the facts they need from here, so each can run as its own process.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fp_core import topics
from fp_core.errors import NotFound, PublishAmbiguous
from fp_core.identity import derive_id
from fp_core.model import FrozenModel
from fp_core.ports import BusConsumer, BusProducer, Clock, OutboundMessage, TopicPartition
from fp_core.services.sr import ReadySignal


def tp_key(tp: TopicPartition) -> str:
    return f"{tp[0]}:{tp[1]}"


def tp_parse(key: str) -> TopicPartition:
    topic, part = key.rsplit(":", 1)
    return topic, int(part)


def encode_positions(positions: Mapping[TopicPartition, int]) -> dict[str, int]:
    return {tp_key(tp): off for tp, off in sorted(positions.items())}


def decode_positions(positions: Mapping[str, int]) -> dict[TopicPartition, int]:
    return {tp_parse(k): v for k, v in positions.items()}


class StreamComplete(FrozenModel):
    """WSP/IG finished: what was sent per class, the drill ledger, and the input offset range."""

    message_id: str
    kind: Literal["STREAM_COMPLETE"] = "STREAM_COMPLETE"
    platform_run_id: str
    start_offsets: dict[str, int]
    end_offsets: dict[str, int]
    sent_by_class: dict[str, int]
    outcomes: dict[str, int]
    submissions: int
    retries: int
    drills: tuple[str, ...]
    drill_every: int
    drill_txn_keys: dict[str, list[str]]
    drill_injected: dict[str, dict[str, int]]


class StageComplete(FrozenModel):
    message_id: str
    kind: Literal["STAGE_COMPLETE"] = "STAGE_COMPLETE"
    platform_run_id: str
    stage: str
    stats: dict[str, Any]


def stage_complete(platform_run_id: str, stage: str, stats: Mapping[str, Any]) -> StageComplete:
    return StageComplete(message_id=derive_id("stage", platform_run_id, stage), platform_run_id=platform_run_id,
                         stage=stage, stats=dict(stats))


def publish_fact(producer: BusProducer, platform_run_id: str, fact: FrozenModel) -> None:
    [delivery] = producer.publish([OutboundMessage(topics.CONTROL, platform_run_id.encode(),
                                                   fact.model_dump_json().encode())])
    if delivery.origin is None:
        raise PublishAmbiguous(f"control fact for {platform_run_id} not acknowledged: {delivery.error}")


@dataclass
class RunFacts:
    ready: ReadySignal
    stream: StreamComplete | None = None
    stages: dict[str, StageComplete] = field(default_factory=dict)

    def require_stream(self) -> StreamComplete:
        if self.stream is None:
            raise NotFound(f"no STREAM_COMPLETE for {self.ready.pins.platform_run_id}: run WSP first")
        return self.stream


def read_facts(consumer: BusConsumer, platform_run_id: str) -> RunFacts:
    """Scan the (low-volume) control topic for the run's latest facts of each kind."""
    end = consumer.end_offsets([topics.CONTROL])
    consumer.assign(dict.fromkeys(end, 0))
    position = dict.fromkeys(end, 0)
    ready: ReadySignal | None = None
    stream: StreamComplete | None = None
    stages: dict[str, StageComplete] = {}
    idle = 0
    while any(position[tp] < end[tp] for tp in end) and idle < 20:
        records = consumer.poll_batch(1_000, 0.5)
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
    if ready is None:
        raise NotFound(f"no READY for {platform_run_id} on {topics.CONTROL}: run SR first")
    return RunFacts(ready, stream, stages)


class StreamEndWatcher:
    """An end-offset source for a consumer that follows a run still being streamed: polls the control
    topic (on its own consumer) until the run's STREAM_COMPLETE fact appears."""

    def __init__(self, consumer: BusConsumer, platform_run_id: str, clock: Clock, every_s: float = 0.2) -> None:
        self._consumer, self._run, self._clock, self._every = consumer, platform_run_id, clock, every_s
        self._end: dict[TopicPartition, int] | None = None
        self._last = float("-inf")
        consumer.assign(dict.fromkeys(consumer.end_offsets([topics.CONTROL]), 0))

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
