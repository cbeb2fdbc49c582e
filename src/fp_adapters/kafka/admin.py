"""Provision the topic map (Appendix C) on a broker: names, partitions, retention, cleanup.policy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)
from confluent_kafka.cimpl import NewTopic

from fp_adapters.kafka.names import TopicNames
from fp_core.errors import TransientError
from fp_core.topics import TOPIC_MAP, TopicSpec


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



def cluster_id(conf: dict[str, Any], timeout_s: float = 15.0) -> str:
    """The cluster's id, asked of the broker in a metadata request (what run.json and the dev_min session
    record name; a metadata request needs no cluster-level ACL, as on a Confluent application key)."""
    try:
        meta = AdminClient(conf).list_topics(timeout=timeout_s)
    except KafkaException as exc:
        raise TransientError(f"kafka metadata: {exc}") from exc
    return str(meta.cluster_id)


APP_TOPIC_OPERATIONS = (AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE)


def app_acls(principal: str, topic_prefix: str, group_prefix: str) -> list[AclBinding]:
    """What the demo stack grants the application's API key: READ/WRITE/DESCRIBE on its topics, READ on
    its consumer groups (``infra/terraform/dev_min/demo/main.tf``, ``confluent_kafka_acl``)."""
    topics = [AclBinding(ResourceType.TOPIC, topic_prefix, ResourcePatternType.PREFIXED, principal, "*", op,
                         AclPermissionType.ALLOW) for op in APP_TOPIC_OPERATIONS]
    return [*topics, AclBinding(ResourceType.GROUP, group_prefix, ResourcePatternType.PREFIXED, principal, "*",
                                AclOperation.READ, AclPermissionType.ALLOW)]


def _principal_filter(principal: str) -> AclBindingFilter:
    return AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, principal, None,  # type: ignore[arg-type]
                            AclOperation.ANY, AclPermissionType.ANY)


def grant_acls(conf: dict[str, Any], bindings: Sequence[AclBinding], timeout_s: float = 30.0) -> int:
    admin = AdminClient(conf)  # held until the futures resolve (a freed client cancels them)
    try:
        for fut in admin.create_acls(list(bindings), request_timeout=timeout_s).values():
            fut.result()
    except KafkaException as exc:
        raise TransientError(f"kafka create_acls: {exc}") from exc
    return len(bindings)


def acls_of(conf: dict[str, Any], principal: str, timeout_s: float = 30.0) -> list[str]:
    """The ACLs naming ``principal``, as ``RESOURCE:pattern:name:OPERATION``."""
    admin = AdminClient(conf)
    try:
        found = admin.describe_acls(_principal_filter(principal), request_timeout=timeout_s).result()
    except KafkaException as exc:
        raise TransientError(f"kafka describe_acls: {exc}") from exc
    return sorted(f"{b.restype.name}:{b.resource_pattern_type.name}:{b.name}:{b.operation.name}" for b in found)


def revoke_acls(conf: dict[str, Any], principal: str, timeout_s: float = 30.0) -> int:
    """Delete every ACL naming ``principal``; returns how many were deleted."""
    admin = AdminClient(conf)
    try:
        futures = admin.delete_acls([_principal_filter(principal)], request_timeout=timeout_s)
        return sum(len(fut.result()) for fut in futures.values())
    except KafkaException as exc:
        raise TransientError(f"kafka delete_acls: {exc}") from exc


def topics_named(conf: dict[str, Any], names: TopicNames, timeout_s: float = 15.0) -> list[str]:
    """The physical topics on the cluster that belong to ``names`` (its prefix and the topic map)."""
    wanted = {names.physical(s.name) for s in TOPIC_MAP}
    return sorted(t for t in AdminClient(conf).list_topics(timeout=timeout_s).topics if t in wanted)


def delete_topics(conf: dict[str, Any], topics: Sequence[str], timeout_s: float = 30.0) -> list[str]:
    if not topics:
        return []
    deleted = []
    admin = AdminClient(conf)
    for name, fut in admin.delete_topics(list(topics), operation_timeout=timeout_s).items():
        try:
            fut.result()
            deleted.append(name)
        except KafkaException as exc:
            err = exc.args[0]
            if not (isinstance(err, KafkaError) and err.code() == KafkaError.UNKNOWN_TOPIC_OR_PART):
                raise TransientError(f"deleting topic {name}: {exc}") from exc
    return deleted

