"""Provision a running local substrate as the Terraform stacks would: topics, schema, buckets, and for
the dev_min emulation the SSM SecureString parameters and the DynamoDB quarantine index."""

from __future__ import annotations

import json
import secrets
from typing import Any

from fp_adapters.aws import aws_client, s3_client
from fp_adapters.dynamodb.quarantine_index import ensure_table
from fp_adapters.kafka.admin import (
    acls_of,
    app_acls,
    delete_topics,
    grant_acls,
    provision_topics,
    revoke_acls,
    topics_named,
)
from fp_adapters.kafka.client_config import BusCredentials, client_config, credential_parameters
from fp_adapters.kafka.names import TopicNames
from fp_adapters.postgres.connection import connect, migrate
from fp_adapters.s3.object_store import ensure_buckets
from fp_adapters.settings import BusSettings, Settings, load_settings
from fp_core.errors import PlatformError
from fp_core.topics import TOPIC_MAP
from fp_ops.managed_kafka import SASL_BOOTSTRAP, sasl_user
from fp_ops.services.postgres import ensure_database


def provision(settings: Settings, admin_bootstrap: str | None = None) -> dict[str, list[str]]:
    """Topics via an admin (PLAINTEXT) connection, database + migrations, buckets, DynamoDB table."""
    conf = admin_config(admin_bootstrap or settings.bus.bootstrap)
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


SERVICE_ROLE = "fraud-platform-dev-min-service"
"""The core stack's service identity (``service_identity_name`` in core/variables.tf)."""
APP_GROUP_PREFIX = "fp-"
"""The consumer groups the demo stack lets the application read (``confluent_kafka_acl.groups``)."""


def admin_config(admin_bootstrap: str) -> dict[str, Any]:
    """The local broker's PLAINTEXT listener: a super user, as the demo stack's cluster-admin key is."""
    return client_config(BusSettings(), BusCredentials(bootstrap=admin_bootstrap))


def app_principal() -> str:
    return f"User:{sasl_user().api_key}"


def apply_emulated_demo(settings: Settings, admin_bootstrap: str) -> dict[str, Any]:
    """What applying the core and demo stacks does, on the emulated endpoints: the core (buckets, the
    quarantine table, the service role) and the demo (topics, the application's API key with its ACLs,
    the SSM SecureString parameters)."""
    if not settings.bus.topic_prefix:
        raise PlatformError("emulated dev_min needs its own bus.topic_prefix (its demo topics are destroyed)")
    done = provision(settings, admin_bootstrap=admin_bootstrap)
    iam = aws_client("iam", settings)
    try:
        iam.get_role(RoleName=SERVICE_ROLE)
    except iam.exceptions.NoSuchEntityException:
        iam.create_role(RoleName=SERVICE_ROLE, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                   "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]}))
    admin = admin_config(admin_bootstrap)
    if not acls_of(admin, app_principal()):
        grant_acls(admin, app_acls(app_principal(), settings.bus.topic_prefix, APP_GROUP_PREFIX))
    seed_managed_kafka_parameters(settings)
    seed_ingress_keys(settings)
    return done


def seed_ingress_keys(settings: Settings) -> list[str]:
    """What the demo stack writes for the HTTP ingress: one random API key per SSM-keyed producer."""
    ssm = aws_client("ssm", settings)
    names = [p.key_ssm for p in settings.ingress.producers.values() if p.key_ssm]
    present = {p["Name"] for p in ssm.get_parameters(Names=names).get("Parameters", [])} if names else set()
    for name in sorted(set(names) - present):
        ssm.put_parameter(Name=name, Value=secrets.token_urlsafe(32), Type="SecureString")
    return names


def destroy_emulated_demo(settings: Settings, admin_bootstrap: str) -> dict[str, Any]:
    """What destroying the demo stack does: the API key's ACLs, the topics and the SSM parameters go;
    the core stays."""
    admin = admin_config(admin_bootstrap)
    revoked = revoke_acls(admin, app_principal())
    topics = delete_topics(admin, topics_named(admin, TopicNames(settings.bus.topic_prefix)))
    ssm = aws_client("ssm", settings)
    names = credential_parameters(settings.bus)
    names += [p.key_ssm for p in settings.ingress.producers.values() if p.key_ssm]
    ssm.delete_parameters(Names=names)
    return {"acls_deleted": revoked, "topics_deleted": topics, "ssm_parameters_deleted": names}


def seed_managed_kafka_parameters(settings: Settings) -> None:
    """What the demo Terraform stack writes: bootstrap (no SASL_SSL:// prefix), api_key, api_secret."""
    user = sasl_user()
    values = (SASL_BOOTSTRAP, user.api_key, user.api_secret)  # in CREDENTIAL_NAMES order
    ssm = aws_client("ssm", settings)
    for name, value in zip(credential_parameters(settings.bus), values, strict=True):
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)


def provision_all() -> None:
    local = load_settings("local_parity")
    provision(local)
    apply_emulated_demo(load_settings("dev_min"), local.bus.bootstrap)
