"""Provision a running local substrate as the Terraform stacks would: topics, schema, buckets, and for
the dev_min emulation the SSM SecureString parameters and the DynamoDB quarantine index."""

from __future__ import annotations

from fp_adapters.aws import aws_client, s3_client
from fp_adapters.dynamodb.quarantine_index import ensure_table
from fp_adapters.kafka.admin import provision_topics
from fp_adapters.kafka.client_config import CREDENTIAL_NAMES, BusCredentials, client_config
from fp_adapters.kafka.names import TopicNames
from fp_adapters.postgres.connection import connect, migrate
from fp_adapters.s3.object_store import ensure_buckets
from fp_adapters.settings import Settings, load_settings
from fp_core.topics import TOPIC_MAP
from fp_ops.managed_kafka import SASL_BOOTSTRAP, sasl_user
from fp_ops.services.postgres import ensure_database


def provision(settings: Settings, admin_bootstrap: str | None = None) -> dict[str, list[str]]:
    """Topics via an admin (PLAINTEXT) connection, database + migrations, buckets, DynamoDB table."""
    bus = settings.bus.model_copy(update={"security_protocol": "PLAINTEXT"})
    conf = client_config(bus, BusCredentials(bootstrap=admin_bootstrap or settings.bus.bootstrap))
    topics = provision_topics(conf, TOPIC_MAP, TopicNames(settings.bus.topic_prefix))
    ensure_database(settings.require_postgres().dsn)
    conn = connect(settings.require_postgres().dsn)
    try:
        applied = migrate(conn)
    finally:
        conn.close()
    buckets = ensure_buckets(s3_client(settings), settings.objects.buckets, settings.objects.region)
    tables = []
    if settings.quarantine_index == "dynamodb" and ensure_table(aws_client("dynamodb", settings),
                                                                settings.dynamodb.quarantine_table):
        tables.append(settings.dynamodb.quarantine_table)
    return {"topics": topics, "migrations": applied, "buckets": buckets, "tables": tables}


def seed_managed_kafka_parameters(settings: Settings) -> None:
    """What the demo Terraform stack writes: bootstrap (no SASL_SSL:// prefix), api_key, api_secret."""
    user = sasl_user()
    values = dict(zip(CREDENTIAL_NAMES, (SASL_BOOTSTRAP, user.api_key, user.api_secret), strict=True))
    ssm = aws_client("ssm", settings)
    prefix = (settings.bus.credentials_ssm_prefix or "").rstrip("/")
    for name, value in values.items():
        ssm.put_parameter(Name=f"{prefix}/{name}", Value=value, Type="SecureString", Overwrite=True)


def provision_all() -> None:
    local = load_settings("local_parity")
    provision(local)
    dev_min = load_settings("dev_min")
    seed_managed_kafka_parameters(dev_min)
    provision(dev_min, admin_bootstrap=local.bus.bootstrap)
