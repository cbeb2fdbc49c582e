"""Provision a running local substrate as the Terraform stacks would: topics, schema, buckets."""

from __future__ import annotations

from fp_adapters.aws import s3_client
from fp_adapters.kafka.admin import provision_topics
from fp_adapters.kafka.client_config import BusCredentials, client_config
from fp_adapters.kafka.names import TopicNames
from fp_adapters.postgres.connection import connect, migrate
from fp_adapters.s3.object_store import ensure_buckets
from fp_adapters.settings import Settings, load_settings
from fp_core.topics import TOPIC_MAP


def provision(settings: Settings) -> dict[str, list[str]]:
    conf = client_config(settings.bus, BusCredentials(bootstrap=settings.bus.bootstrap))
    topics = provision_topics(conf, TOPIC_MAP, TopicNames(settings.bus.topic_prefix))
    conn = connect(settings.postgres.dsn)
    try:
        applied = migrate(conn)
    finally:
        conn.close()
    buckets = ensure_buckets(s3_client(settings), settings.objects.buckets, settings.objects.region)
    return {"topics": topics, "migrations": applied, "buckets": buckets}


def provision_all() -> None:
    provision(load_settings("local_parity"))
