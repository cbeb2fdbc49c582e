"""The Kafka topic map (seed Appendix C): names, partitions, retention, partition keys."""

from __future__ import annotations

import zlib
from typing import Literal

from fp_core.model import FrozenModel

DAY_MS = 86_400_000


class TopicSpec(FrozenModel):
    name: str
    partitions: int
    retention_ms: int
    partition_key: str
    required: bool = True
    cleanup_policy: Literal["delete"] = "delete"


CONTROL = "fp.bus.control.v1"
TRAFFIC_FRAUD = "fp.bus.traffic.fraud.v1"
CONTEXT_ARRIVAL_EVENTS = "fp.bus.context.arrival_events.v1"
CONTEXT_ARRIVAL_ENTITIES = "fp.bus.context.arrival_entities.v1"
CONTEXT_FLOW_ANCHOR = "fp.bus.context.flow_anchor.fraud.v1"
AUDIT = "fp.bus.audit.v1"
RTDL = "fp.bus.rtdl.v1"
CASE_TRIGGERS = "fp.bus.case.triggers.v1"
LABEL_EVENTS = "fp.bus.labels.events.v1"
TRAFFIC_BASELINE = "fp.bus.traffic.baseline.v1"
CONTEXT_FLOW_ANCHOR_BASELINE = "fp.bus.context.flow_anchor.baseline.v1"

TOPIC_MAP: tuple[TopicSpec, ...] = (
    TopicSpec(name=CONTROL, partitions=1, retention_ms=3 * DAY_MS, partition_key="platform_run_id"),
    TopicSpec(name=TRAFFIC_FRAUD, partitions=3, retention_ms=DAY_MS, partition_key="merchant_id"),
    TopicSpec(name=CONTEXT_ARRIVAL_EVENTS, partitions=3, retention_ms=DAY_MS, partition_key="merchant_id"),
    TopicSpec(name=CONTEXT_ARRIVAL_ENTITIES, partitions=3, retention_ms=DAY_MS, partition_key="merchant_id"),
    TopicSpec(name=CONTEXT_FLOW_ANCHOR, partitions=3, retention_ms=DAY_MS, partition_key="merchant_id"),
    TopicSpec(name=AUDIT, partitions=3, retention_ms=3 * DAY_MS, partition_key="decision_id"),
    TopicSpec(name=RTDL, partitions=3, retention_ms=DAY_MS, partition_key="decision_id"),
    TopicSpec(name=CASE_TRIGGERS, partitions=1, retention_ms=3 * DAY_MS, partition_key="case_id"),
    TopicSpec(name=LABEL_EVENTS, partitions=1, retention_ms=3 * DAY_MS, partition_key="platform_run_id",
              required=False),
    TopicSpec(name=TRAFFIC_BASELINE, partitions=3, retention_ms=DAY_MS, partition_key="merchant_id",
              required=False),
    TopicSpec(name=CONTEXT_FLOW_ANCHOR_BASELINE, partitions=3, retention_ms=DAY_MS,
              partition_key="merchant_id", required=False),
)

def partition_of(key: bytes, partitions: int) -> int:
    """The partition a keyed record goes to: CRC-32 of the key modulo the partition count. The Kafka
    producer names it (librdkafka's ``consistent`` partitioner), the memory bus computes it, and IG's lanes
    route by it (``fp_core.lanes``)."""
    return zlib.crc32(key) % partitions


PARTITIONS: dict[str, int] = {spec.name: spec.partitions for spec in TOPIC_MAP}
"""Each topic's partition count."""

RTDL_INPUTS: tuple[str, ...] = (
    TRAFFIC_FRAUD, CONTEXT_ARRIVAL_EVENTS, CONTEXT_ARRIVAL_ENTITIES, CONTEXT_FLOW_ANCHOR,
)
