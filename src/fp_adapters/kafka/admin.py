"""Provision the topic map (Appendix C) on a broker: names, partitions, retention, cleanup.policy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from fp_adapters.kafka.names import TopicNames
from fp_core.errors import TransientError
from fp_core.topics import TopicSpec


def provision_topics(conf: dict[str, Any], specs: Sequence[TopicSpec], names: TopicNames,
                     timeout_s: float = 30.0) -> list[str]:
    """Create missing topics; returns the names created. Existing topics are left as they are."""
    admin = AdminClient(conf)
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    new = [NewTopic(names.physical(s.name), num_partitions=s.partitions, replication_factor=-1,
                    config={"retention.ms": str(s.retention_ms), "cleanup.policy": s.cleanup_policy})
           for s in specs if names.physical(s.name) not in existing]
    if not new:
        return []
    created = []
    for name, fut in admin.create_topics(new, operation_timeout=timeout_s).items():
        try:
            fut.result()
            created.append(name)
        except KafkaException as exc:
            err = exc.args[0]
            if not (isinstance(err, KafkaError) and err.code() == KafkaError.TOPIC_ALREADY_EXISTS):
                raise TransientError(f"creating topic {name}: {exc}") from exc
    return created


def describe_topics(conf: dict[str, Any], names: TopicNames, timeout_s: float = 15.0) -> dict[str, int]:
    """Physical topic -> partition count, for preflight checks."""
    meta = AdminClient(conf).list_topics(timeout=timeout_s)
    return {names.logical(t): len(m.partitions) for t, m in meta.topics.items() if t.startswith(names.prefix)}

