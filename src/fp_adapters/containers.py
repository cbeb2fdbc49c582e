"""The composition root. ``build_container(env)`` is the only place services are assembled.

An *adapter set* container provides the ports of one substrate (``local_parity``: Kafka, Postgres,
Redis, S3 API; ``dev_min``: the same with SASL_SSL credentials from SSM and a DynamoDB quarantine
index; ``memory``: everything in process memory). The ``Platform`` container builds every service
(IG, WSP, RTDL, CM, LS, archive, reporter, the run workflow) once, from whichever adapter set it is
given. Clients are created by Resource providers at ``init_resources()`` (never at import) and closed
by ``shutdown_resources()``; secrets are resolved inside a resource at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import redis
from psycopg_pool import ConnectionPool

from fp_adapters.aws import aws_client, s3_client
from fp_adapters.clock import SystemClock
from fp_adapters.di import containers, providers
from fp_adapters.dynamodb.quarantine_index import DynamoQuarantineIndex
from fp_adapters.environments import adapter_set_class
from fp_adapters.ig_lanes import LanePool
from fp_adapters.kafka.client_config import BusCredentials, client_config, credentials_from_ssm
from fp_adapters.kafka.consumer import KafkaBusConsumer
from fp_adapters.kafka.names import TopicNames
from fp_adapters.kafka.producer import KafkaBusProducer
from fp_adapters.logging import get_logger, log_file
from fp_adapters.memory.bus import MemConsumer, MemProducer
from fp_adapters.memory.launcher import InProcessLauncher
from fp_adapters.memory.stores import (
    MemActionLog,
    MemAdmissionIndex,
    MemAuditLog,
    MemCaseStore,
    MemCheckpointLog,
    MemJoinStore,
    MemLabelStore,
    MemObjectStore,
    MemQuarantineIndex,
    MemReceiptLog,
    MemRegistryLog,
)
from fp_adapters.memory.substrate import MemorySubstrate
from fp_adapters.parquet import ParquetCodec
from fp_adapters.postgres.action_log import PgActionLog
from fp_adapters.postgres.admission_index import PgAdmissionIndex
from fp_adapters.postgres.audit_log import PgAuditLog
from fp_adapters.postgres.bundle_registry import PgRegistryLog
from fp_adapters.postgres.case_store import PgCaseStore
from fp_adapters.postgres.checkpoints import PgCheckpointLog
from fp_adapters.postgres.connection import migrate, open_pool, translated
from fp_adapters.postgres.decision_ledger import PgDecisionLedger
from fp_adapters.postgres.label_store import PgLabelStore
from fp_adapters.postgres.quarantine_index import PgQuarantineIndex
from fp_adapters.postgres.receipts import PgReceiptLog
from fp_adapters.redis.join_store import RedisJoinStore
from fp_adapters.report.html import HtmlReport
from fp_adapters.s3.object_store import S3ObjectStore
from fp_adapters.settings import Settings, load_settings
from fp_adapters.sklearn_fitter import SklearnLogistic
from fp_adapters.ssm.secret_store import SsmSecretStore
from fp_adapters.stage_process import ProcessStageLauncher
from fp_adapters.substrate_record import kafka_substrate, memory_substrate
from fp_adapters.tracing import OtelTracer
from fp_core.drills.hooks import DrillHooks
from fp_core.errors import ConfigError
from fp_core.event_class import FRAUD_CLASS_MAP
from fp_core.lanes import LaneRouter
from fp_core.pins import ContextPins
from fp_core.ports import BusConsumer, Log
from fp_core.services.archive import ArchiveStage
from fp_core.services.cm import CmStage
from fp_core.services.consuming import Drainer, OffsetProbe
from fp_core.services.facts import FactLog
from fp_core.services.ig import IngestionGate
from fp_core.services.ig_lanes import Lane, LanedGate
from fp_core.services.learning import BundleRegistry, DatasetBuilder, ModelTrainer
from fp_core.services.ls import LabelService
from fp_core.services.replay import Replayer
from fp_core.services.reporter import Reporter
from fp_core.services.rtdl import DecisionLoop, RtdlStage, SeparateLedger
from fp_core.services.run import RunWorkflow
from fp_core.services.sr import ScenarioRunner
from fp_core.services.wsp import Ingress, WorldStreamer

# ------------------------------------------------------------------------------------------- adapter sets


def _pg(settings: Settings) -> Iterator[ConnectionPool]:
    pg = settings.require_postgres()
    pool = open_pool(pg.dsn, pg.pool_size, pg.reconnect_s)
    try:
        with translated(), pool.connection() as conn:
            migrate(conn)
        yield pool
    finally:
        pool.close()


def _redis(settings: Settings) -> Iterator[redis.Redis]:
    """The client; a restarting Redis is outlasted in one place, the join store's retry loop
    (``redis.reconnect_s``), not also inside redis-py (the two would multiply the wait)."""
    client = redis.Redis.from_url(settings.require_redis().url, socket_timeout=30)
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


def _kafka_consumers(conf: dict[str, Any], names: TopicNames, settings: Settings) -> Callable[[str], BusConsumer]:
    def make(group: str) -> BusConsumer:
        return KafkaBusConsumer(conf, group, names, settings.bus.max_partition_fetch_bytes)
    return make


def _secrets_of(credentials: BusCredentials) -> list[str]:
    return [s for s in (credentials.api_key, credentials.api_secret) if s]


class KafkaAdapters(containers.DeclarativeContainer):
    """Kafka (PLAINTEXT), Postgres, Redis and the S3 API: the local_parity adapter set."""

    settings = providers.Dependency(instance_of=Settings)
    rtdl_launch = providers.Object("process")
    conformance_skips: providers.Provider[dict[str, str]] = providers.Object({})
    credentials: providers.Provider[BusCredentials] = providers.Singleton(plain_credentials, settings)
    secrets_in_use = providers.Callable(_secrets_of, credentials)
    names = providers.Singleton(lambda s: TopicNames(s.bus.topic_prefix), settings)
    kafka_conf = providers.Singleton(lambda s, c: client_config(s.bus, c), settings, credentials)

    substrate_record = providers.Callable(kafka_substrate, settings, kafka_conf, names, credentials)
    secret_store: providers.Provider[Any] = providers.Object(None)  # dev_min: SSM SecureString
    pg = providers.Resource(_pg, settings)
    redis_client = providers.Resource(_redis, settings)
    producer = providers.Resource(_producer, kafka_conf, names, settings)
    s3 = providers.Singleton(s3_client, settings)

    objects = providers.Singleton(lambda c, s: S3ObjectStore(c, s.objects.buckets), s3, settings)
    consumer = providers.Singleton(_kafka_consumers, kafka_conf, names, settings)
    admission_index = providers.Singleton(PgAdmissionIndex, pg)
    receipts = providers.Singleton(PgReceiptLog, pg)
    quarantine_index: providers.Provider[Any] = providers.Singleton(PgQuarantineIndex, pg)
    join_store = providers.Singleton(
        lambda r, s: RedisJoinStore(r, s.require_redis().context_ttl_s, s.require_redis().reconnect_s),
        redis_client, settings)
    audit_log = providers.Singleton(PgAuditLog, pg)
    action_log = providers.Singleton(PgActionLog, pg)
    decision_ledger = providers.Singleton(PgDecisionLedger, audit_log)
    cases = providers.Singleton(PgCaseStore, pg)
    labels = providers.Singleton(PgLabelStore, pg)
    checkpoints = providers.Singleton(PgCheckpointLog, pg)
    registry_log = providers.Singleton(PgRegistryLog, pg)
    clock = providers.Singleton(SystemClock)
    log = providers.Singleton(get_logger, "platform")


def _ssm_credentials(settings: Settings, secrets: SsmSecretStore) -> Iterator[BusCredentials]:
    yield credentials_from_ssm(settings.bus, secrets)


class DevMinAdapters(KafkaAdapters):
    """dev_min: Kafka SASL_SSL/PLAIN with credentials from SSM SecureString, S3 bucket map, DynamoDB
    quarantine index. Only endpoints and files differ between real AWS/Confluent and the emulation."""

    ssm = providers.Singleton(aws_client, "ssm", KafkaAdapters.settings)
    secret_store: providers.Provider[Any] = providers.Singleton(SsmSecretStore, ssm)
    ssm_credentials = providers.Resource(_ssm_credentials, KafkaAdapters.settings, secret_store)
    dynamodb = providers.Singleton(aws_client, "dynamodb", KafkaAdapters.settings)
    dynamo_quarantine_index = providers.Singleton(
        lambda c, s: DynamoQuarantineIndex(c, s.dynamodb.quarantine_table), dynamodb, KafkaAdapters.settings)

    # Which inherited providers dev_min replaces, and with which of its own (override rewires dependents).
    OVERRIDES = {"credentials": "ssm_credentials", "quarantine_index": "dynamo_quarantine_index"}


def _memory_consumers(substrate: MemorySubstrate) -> Callable[[str], BusConsumer]:
    def make(group: str) -> BusConsumer:
        return MemConsumer(substrate, group)
    return make


class MemoryAdapters(containers.DeclarativeContainer):
    """Every port in process memory (shared per namespace), with the real adapters' contracts."""

    settings = providers.Dependency(instance_of=Settings)
    rtdl_launch = providers.Object("in_process")
    conformance_skips: providers.Provider[dict[str, str]] = providers.Object({})
    secrets_in_use: providers.Provider[list[str]] = providers.Object([])
    substrate_record = providers.Callable(memory_substrate, settings)
    secret_store: providers.Provider[Any] = providers.Object(None)
    substrate = providers.Singleton(lambda s: MemorySubstrate.named(s.memory.namespace), settings)
    objects = providers.Singleton(lambda sub, s: MemObjectStore(sub, s.memory.namespace), substrate, settings)
    producer = providers.Singleton(MemProducer, substrate)
    consumer = providers.Singleton(_memory_consumers, substrate)
    admission_index = providers.Singleton(MemAdmissionIndex, substrate)
    receipts = providers.Singleton(MemReceiptLog, substrate)
    quarantine_index = providers.Singleton(MemQuarantineIndex, substrate)
    join_store = providers.Singleton(MemJoinStore, substrate)
    audit_log = providers.Singleton(MemAuditLog, substrate)
    action_log = providers.Singleton(MemActionLog, substrate)
    decision_ledger = providers.Singleton(SeparateLedger, audit_log, action_log)
    cases = providers.Singleton(MemCaseStore, substrate)
    labels = providers.Singleton(MemLabelStore, substrate)
    checkpoints = providers.Singleton(MemCheckpointLog, substrate)
    registry_log = providers.Singleton(MemRegistryLog, substrate)
    clock = providers.Singleton(SystemClock)
    log = providers.Singleton(get_logger, "platform")


# ------------------------------------------------------------------------------------------- services


def component_log(log: Any, component: str) -> Any:
    """The adapter set's logger with ``component`` bound (a logger without ``bind`` is used as it is)."""
    bind = getattr(log, "bind", None)
    return bind(component=component) if callable(bind) else log


def _log(log: Any, component: str) -> Any:
    return providers.Callable(component_log, log, component)


def laned_ingress(pins: ContextPins, gate: Callable[[ContextPins], IngestionGate], lanes: LanePool | None,
                  count: int, log: Log) -> Ingress:
    """What WSP submits to: the gate over ``count`` lanes (one: this process's gate alone), lanes 1.. in
    ``lanes``'s children where there are any (D64). It answers with receipt rows (D66)."""
    local = gate(pins)
    if count == 1:
        return LanedGate(local, [], LaneRouter(FRAUD_CLASS_MAP, 1), log)
    remotes = lanes.bind(pins, log_file()) if lanes is not None else list[Lane | None]([None] * (count - 1))
    return LanedGate(local, remotes, LaneRouter(FRAUD_CLASS_MAP, count), log)


class Platform(containers.DeclarativeContainer):
    """Every service, built once from the ports of ``adapters``. Per-run services are factories:
    ``gate(pins)``, ``decision_loop(pins=..., ...)``, ``workflow(git_sha=..., progress=...)``."""

    settings = providers.Dependency(instance_of=Settings)
    adapters = providers.DependenciesContainer()
    tracer = providers.Singleton(OtelTracer)

    facts = providers.Singleton(FactLog, producer=adapters.producer, consumer=adapters.consumer,
                                objects=adapters.objects, clock=adapters.clock, log=_log(adapters.log, "facts"))
    probe = providers.Singleton(OffsetProbe, adapters.consumer)
    drainer = providers.Singleton(Drainer, consumer=adapters.consumer, checkpoints=adapters.checkpoints,
                                  clock=adapters.clock, log=_log(adapters.log, "consumer"),
                                  tracer=tracer, commit_interval_s=settings.provided.bus.commit_interval_s)

    gate = providers.Factory(
        IngestionGate, class_map=providers.Object(FRAUD_CLASS_MAP), index=adapters.admission_index,
        receipts=adapters.receipts, quarantine_index=adapters.quarantine_index, objects=adapters.objects,
        producer=adapters.producer, log=_log(adapters.log, "ig"), tracer=tracer)
    lanes: providers.Object[LanePool | None] = providers.Object(None)
    """IG's forked lanes (a ``LanePool``), where ``fp_apps.wiring.platform`` forked them."""
    ingress = providers.Factory(
        laned_ingress, gate=gate.provider, lanes=lanes, count=settings.provided.ig.lanes,
        log=_log(adapters.log, "ig"))
    decision_loop = providers.Factory(
        DecisionLoop, join_store=adapters.join_store, ledger=adapters.decision_ledger, producer=adapters.producer,
        log=_log(adapters.log, "rtdl"), clock=adapters.clock)

    sr = providers.Singleton(ScenarioRunner, objects=adapters.objects, facts=facts, probe=probe,
                             clock=adapters.clock, log=_log(adapters.log, "sr"))
    drills = providers.Singleton(DrillHooks, facts=facts, clock=adapters.clock, log=_log(adapters.log, "drills"),
                                 lag_pause_s=settings.provided.drills.lag_pause_s)
    wsp = providers.Singleton(WorldStreamer, objects=adapters.objects, gate=ingress.provider,
                              class_map=providers.Object(FRAUD_CLASS_MAP), source=drills, facts=facts, probe=probe,
                              clock=adapters.clock, log=_log(adapters.log, "wsp"))
    rtdl = providers.Singleton(RtdlStage, loop=decision_loop.provider, drainer=drainer, facts=facts,
                               consumers=drills, join_store=adapters.join_store)
    cm = providers.Singleton(CmStage, cases=adapters.cases, drainer=drainer, probe=probe, facts=facts)
    ls = providers.Singleton(LabelService, objects=adapters.objects, labels=adapters.labels,
                             producer=adapters.producer, log=_log(adapters.log, "ls"), facts=facts)
    codec = providers.Singleton(ParquetCodec)
    archive = providers.Singleton(ArchiveStage, objects=adapters.objects, drainer=drainer, facts=facts, codec=codec)
    reporter = providers.Singleton(
        Reporter, objects=adapters.objects, receipts=adapters.receipts, audit_log=adapters.audit_log,
        action_log=adapters.action_log, cases=adapters.cases, labels=adapters.labels,
        checkpoints=adapters.checkpoints, join_store=adapters.join_store, index=adapters.admission_index,
        quarantine_index=adapters.quarantine_index, report=providers.Singleton(HtmlReport))
    replayer = providers.Singleton(Replayer, objects=adapters.objects, audit_log=adapters.audit_log,
                                   consumer=adapters.consumer, loop=decision_loop.provider, drainer=drainer,
                                   clock=adapters.clock, log=_log(adapters.log, "replay"), codec=codec)
    datasets = providers.Singleton(DatasetBuilder, objects=adapters.objects, audit_log=adapters.audit_log,
                                   labels=adapters.labels, codec=codec, log=_log(adapters.log, "ofs"))
    bundles = providers.Singleton(BundleRegistry, records=adapters.registry_log, clock=adapters.clock,
                                  log=_log(adapters.log, "mpr"))
    trainer = providers.Singleton(ModelTrainer, datasets=datasets, registry=bundles,
                                  fitter=providers.Singleton(SklearnLogistic), objects=adapters.objects,
                                  log=_log(adapters.log, "mf"))
    launcher = providers.Selector(
        adapters.rtdl_launch,
        process=providers.Singleton(ProcessStageLauncher, settings),
        in_process=providers.Singleton(InProcessLauncher, rtdl.provided.for_run, archive.provided.for_run))
    workflow = providers.Factory(
        RunWorkflow, env=settings.provided.env, sr=sr, wsp=wsp, cm=cm, ls=ls, reporter=reporter,
        launcher=launcher, facts=facts, checkpoints=adapters.checkpoints, clock=adapters.clock,
        log=_log(adapters.log, "run"),
        evidence_uri=adapters.objects.provided.uri, substrate=adapters.substrate_record.provider, tracer=tracer)


# ------------------------------------------------------------------------------------------- the root

def build_adapters(settings: Settings) -> containers.DeclarativeContainer:
    """The adapter set ``settings`` names (``adapter_set``, else the env's own name), found through the
    ``fraud_platform.environments`` entry points, wired."""
    name = settings.adapter_set or settings.env
    cls = adapter_set_class(name)
    if not (isinstance(cls, type) and issubclass(cls, containers.DeclarativeContainer)):
        raise ConfigError(f"environment {name!r} is registered as {cls!r}, not a DeclarativeContainer class")
    adapters = cls(settings=settings)
    for shared, own in getattr(cls, "OVERRIDES", {}).items():
        getattr(adapters, shared).override(getattr(adapters, own))
    adapters.check_dependencies()
    return adapters


def build_container(env: str, settings: Settings | None = None) -> Platform:
    """The platform for ``env``; an unknown environment fails with the list of valid ones.
    ``init_resources()`` opens its clients (the adapter set's too); ``shutdown_resources()`` closes them."""
    settings = settings or load_settings(env)
    return Platform(settings=settings, adapters=build_adapters(settings))

