"""Shared fixtures: the real local substrate, and isolated namespaces on it for tests that need a
clean slate (their own topics prefix, database, Redis db and bucket)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from fp_adapters.settings import Settings, load_settings


@pytest.fixture(scope="session")
def substrate() -> Iterator[None]:
    from fp_ops import substrate as sub

    sub.up()
    yield


def isolated_settings(base: Settings, tag: str, redis_db: int) -> Settings:
    """Same substrate, separate namespace: topics prefix, database, Redis db, bucket."""
    dbname = f"fp_test_{tag}"
    admin_dsn = base.postgres.dsn.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    bucket = f"fp-test-{tag.replace('_', '-')}"
    settings = base.model_copy(update={
        "bus": base.bus.model_copy(update={"topic_prefix": f"t{tag}."}),
        "postgres": base.postgres.model_copy(update={"dsn": base.postgres.dsn.rsplit("/", 1)[0] + "/" + dbname}),
        "redis": base.redis.model_copy(update={"url": base.redis.url.rsplit("/", 1)[0] + f"/{redis_db}"}),
        "objects": base.objects.model_copy(update={"buckets": dict.fromkeys(base.objects.buckets, bucket)}),
    })
    from fp_ops.provision import provision

    provision(settings)
    import redis

    redis.Redis.from_url(settings.redis.url).flushdb()
    return settings


@pytest.fixture
def fresh_settings(substrate: None) -> Settings:
    return isolated_settings(load_settings("local_parity"), uuid.uuid4().hex[:10], 3)
