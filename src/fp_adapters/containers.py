"""Composition root: one small container per environment; ``build_container(env)`` picks it.

Clients are created by Resource providers at ``init_resources()`` (never at import) and closed by
``shutdown_resources()``. Secrets are resolved inside a resource at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import redis
from dependency_injector import containers, providers

from fp_adapters.aws import aws_client, s3_client
from fp_adapters.clock import SystemClock
from fp_adapters.dynamodb.quarantine_index import DynamoQuarantineIndex
from fp_adapters.kafka.client_config import BusCredentials, client_config, credentials_from_ssm
from fp_adapters.kafka.consumer import KafkaBusConsumer
from fp_adapters.kafka.names import TopicNames
from fp_adapters.kafka.producer import KafkaBusProducer
from fp_adapters.logging import get_logger
from fp_adapters.postgres.action_log import PgActionLog
from fp_adapters.postgres.admission_index import PgAdmissionIndex
from fp_adapters.postgres.audit_log import PgAuditLog
from fp_adapters.postgres.case_store import PgCaseStore
from fp_adapters.postgres.checkpoints import PgCheckpointLog
from fp_adapters.postgres.connection import connect, migrate
from fp_adapters.postgres.label_store import PgLabelStore
from fp_adapters.postgres.quarantine_index import PgQuarantineIndex
from fp_adapters.postgres.receipts import PgReceiptLog
from fp_adapters.redis.join_store import RedisJoinStore
from fp_adapters.s3.object_store import S3ObjectStore
from fp_adapters.settings import Settings, load_settings
from fp_adapters.ssm.secret_store import SsmSecretStore
from fp_adapters.stage_process import ProcessStageLauncher
from fp_core.errors import ConfigError
from fp_core.ports import BusConsumer
from fp_core.services.ports_set import PortSet


def _pg(dsn: str) -> Iterator[psycopg.Connection]:
    conn = connect(dsn)
    migrate(conn)
    try:
        yield conn
    finally:
        conn.close()


def _redis(url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(url, socket_timeout=30)
    try:
        yield client
    finally:
        client.close()


def _producer(conf: dict[str, Any], names: TopicNames, settings: Settings) -> Iterator[KafkaBusProducer]:
    producer = KafkaBusProducer(conf, names, settings.bus.linger_ms, settings.bus.delivery_timeout_s)
    try:
        yield producer
    finally:
        producer.close()


def plain_credentials(settings: Settings) -> BusCredentials:
    return BusCredentials(bootstrap=settings.bus.bootstrap)


def _consumer_factory(conf: dict[str, Any], names: TopicNames, settings: Settings) -> Callable[[str], BusConsumer]:
    def make(group: str) -> BusConsumer:
        return KafkaBusConsumer(conf, group, names, settings.bus.max_partition_fetch_bytes)
    return make


class PlatformContainer(containers.DeclarativeContainer):
    """The adapter set shared by every environment; environments override only what differs."""

    settings = providers.Dependency(instance_of=Settings)
    credentials: providers.Provider[BusCredentials] = providers.Singleton(plain_credentials, settings)
    names = providers.Singleton(lambda s: TopicNames(s.bus.topic_prefix), settings)
    kafka_conf = providers.Singleton(lambda s, c: client_config(s.bus, c), settings, credentials)

    pg = providers.Resource(_pg, settings.provided.postgres.dsn)
    redis_client = providers.Resource(_redis, settings.provided.redis.url)
    producer = providers.Resource(_producer, kafka_conf, names, settings)
    s3 = providers.Singleton(s3_client, settings)

    objects = providers.Singleton(lambda c, s: S3ObjectStore(c, s.objects.buckets), s3, settings)
    consumer = providers.Singleton(_consumer_factory, kafka_conf, names, settings)
    admission_index = providers.Singleton(PgAdmissionIndex, pg)
    receipts = providers.Singleton(PgReceiptLog, pg)
    quarantine_index: providers.Provider[Any] = providers.Singleton(PgQuarantineIndex, pg)
    join_store = providers.Singleton(lambda r, s: RedisJoinStore(r, s.redis.context_ttl_s), redis_client, settings)
    audit_log = providers.Singleton(PgAuditLog, pg)
    action_log = providers.Singleton(PgActionLog, pg)
    cases = providers.Singleton(PgCaseStore, pg)
    labels = providers.Singleton(PgLabelStore, pg)
    checkpoints = providers.Singleton(PgCheckpointLog, pg)
    clock = providers.Singleton(SystemClock)
    log = providers.Singleton(get_logger, "platform")
    launcher = providers.Singleton(ProcessStageLauncher, settings)

    port_set = providers.Singleton(
        lambda s, **kw: PortSet(env=s.env, **kw), settings, objects=objects, producer=producer,
        consumer=consumer, admission_index=admission_index, receipts=receipts,
        quarantine_index=quarantine_index, join_store=join_store, audit_log=audit_log, action_log=action_log,
        cases=cases, labels=labels, checkpoints=checkpoints, clock=clock, log=log, launcher=launcher)


class LocalParityContainer(PlatformContainer):
    """local_parity: Kafka PLAINTEXT, Postgres, Redis, S3 emulator; secrets from the config file."""


def _ssm_credentials(settings: Settings, secrets: SsmSecretStore) -> Iterator[BusCredentials]:
    yield credentials_from_ssm(settings.bus, secrets)


class DevMinContainer(PlatformContainer):
    """dev_min: Kafka SASL_SSL/PLAIN with credentials from SSM SecureString, S3 bucket map, DynamoDB
    quarantine index. Only endpoints and files differ between real AWS/Confluent and the emulation."""

    ssm = providers.Singleton(aws_client, "ssm", PlatformContainer.settings)
    secret_store = providers.Singleton(SsmSecretStore, ssm)
    ssm_credentials = providers.Resource(_ssm_credentials, PlatformContainer.settings, secret_store)
    dynamodb = providers.Singleton(aws_client, "dynamodb", PlatformContainer.settings)
    dynamo_quarantine_index = providers.Singleton(
        lambda c, s: DynamoQuarantineIndex(c, s.dynamodb.quarantine_table), dynamodb, PlatformContainer.settings)


CONTAINERS: dict[str, type[PlatformContainer]] = {"local_parity": LocalParityContainer, "dev_min": DevMinContainer}
# Which shared providers an environment replaces, and with which of its own (override rewires dependents).
OVERRIDES: dict[str, dict[str, str]] = {
    "dev_min": {"credentials": "ssm_credentials", "quarantine_index": "dynamo_quarantine_index"},
}


def build_container(env: str, settings: Settings | None = None) -> PlatformContainer:
    """The container for ``env``; an unknown environment fails with the list of valid ones."""
    if env not in CONTAINERS:
        raise ConfigError(f"unknown environment {env!r}; valid: {sorted(CONTAINERS)}")
    container = CONTAINERS[env](settings=settings or load_settings(env))
    for shared, own in OVERRIDES.get(env, {}).items():
        getattr(container, shared).override(getattr(container, own))
    container.check_dependencies()
    return container
