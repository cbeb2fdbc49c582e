"""The control topic's facts (READY is in ``sr``): STREAM_COMPLETE, STAGE_COMPLETE, and what a reader
of the fact log (``facts.FactLog``) returns for a run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fp_core import topics
from fp_core.errors import NotFound
from fp_core.identity import derive_id
from fp_core.model import FrozenModel
from fp_core.pins import ContextPins
from fp_core.ports import TopicPartition
from fp_core.run_config import RunConfig


def tp_key(tp: TopicPartition) -> str:
    return f"{tp[0]}:{tp[1]}"


def tp_parse(key: str) -> TopicPartition:
    topic, part = key.rsplit(":", 1)
    return topic, int(part)


def encode_positions(positions: Mapping[TopicPartition, int]) -> dict[str, int]:
    return {tp_key(tp): off for tp, off in sorted(positions.items())}


def decode_positions(positions: Mapping[str, int]) -> dict[TopicPartition, int]:
    return {tp_parse(k): v for k, v in positions.items()}


class ReadySignal(FrozenModel):
    """READY on the control topic: the run's pins and what downstream is authorised to read."""

    message_id: str
    kind: str = "READY"
    pins: ContextPins
    config: RunConfig
    config_digest: str
    stream_view_keys: tuple[str, ...]
    label_keys: tuple[str, ...]
    input_start: dict[str, int]
    """``topic:partition`` -> first offset of this run on the admitted and case-trigger topics."""


class StreamComplete(FrozenModel):
    """WSP/IG finished: what was sent per class, what IG said, and the input offset range."""

    message_id: str
    kind: Literal["STREAM_COMPLETE"] = "STREAM_COMPLETE"
    platform_run_id: str
    scenario_run_id: str = ""
    start_offsets: dict[str, int]
    end_offsets: dict[str, int]
    sent_by_class: dict[str, int]
    outcomes: dict[str, int]
    submissions: int
    retries: int
    republished: int = 0


def input_range(stream: StreamComplete) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
    """The run's admitted input range: start and end offsets of the RTDL input topics."""
    start = {tp: o for tp, o in decode_positions(stream.start_offsets).items() if tp[0] in topics.RTDL_INPUTS}
    return start, decode_positions(stream.end_offsets)


class StageComplete(FrozenModel):
    """A component finished its stage for a run, with its figures (a control-topic fact)."""

    message_id: str
    kind: Literal["STAGE_COMPLETE"] = "STAGE_COMPLETE"
    platform_run_id: str
    scenario_run_id: str = ""
    stage: str
    stats: dict[str, Any]


class AnomalyFact(FrozenModel):
    """Appendix C.3: a stage's anomaly and governance figures on ``fp.bus.control.v1`` (low volume,
    append-only), published when the stage completes: payload-hash anomalies, quarantines, publish
    ambiguity and retries at IG; degrades, dead letters and re-published copies at RTDL."""

    message_id: str
    kind: Literal["ANOMALIES"] = "ANOMALIES"
    platform_run_id: str
    scenario_run_id: str
    stage: str
    counts: dict[str, int]


def anomaly_fact(platform_run_id: str, scenario_run_id: str, stage: str, counts: Mapping[str, int]) -> AnomalyFact:
    return AnomalyFact(message_id=derive_id("anomalies", platform_run_id, stage), platform_run_id=platform_run_id,
                       scenario_run_id=scenario_run_id, stage=stage, counts=dict(sorted(counts.items())))


def stage_complete(platform_run_id: str, stage: str, stats: Mapping[str, Any],
                   scenario_run_id: str = "") -> StageComplete:
    return StageComplete(message_id=derive_id("stage", platform_run_id, stage), platform_run_id=platform_run_id,
                         scenario_run_id=scenario_run_id, stage=stage, stats=dict(stats))


@dataclass
class RunFacts:
    ready: ReadySignal
    stream: StreamComplete | None = None
    stages: dict[str, StageComplete] = field(default_factory=dict)
    extra: dict[str, bytes] = field(default_factory=dict)
    """Other facts of the run by kind (the latest of each), raw: those of optional features (drills)."""

    def require_stream(self) -> StreamComplete:
        if self.stream is None:
            raise NotFound(f"no STREAM_COMPLETE for {self.ready.pins.platform_run_id}: run WSP first")
        return self.stream
