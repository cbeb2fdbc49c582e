"""What a run ran on, for ``run.json`` (seed 10.3): endpoints, identities and names, never secrets."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from psycopg.conninfo import conninfo_to_dict

from fp_adapters.kafka.admin import cluster_id
from fp_adapters.kafka.client_config import BusCredentials, credential_parameters
from fp_adapters.kafka.names import TopicNames
from fp_adapters.settings import Settings
from fp_core.topics import TOPIC_MAP


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def kafka_substrate(settings: Settings, conf: dict[str, Any], names: TopicNames,
                    credentials: BusCredentials) -> dict[str, Any]:
    """The Kafka cluster (bootstrap, protocol, its cluster id asked of the broker), the topic map, the
    bucket map, the stores and their tables, the region and the SSM parameter names."""
    pg = conninfo_to_dict(settings.require_postgres().dsn)
    record: dict[str, Any] = {
        "env": settings.env,
        "kafka": {"bootstrap": credentials.bootstrap, "security_protocol": settings.bus.security_protocol,
                  "cluster_id": cluster_id(conf)},
        "topic_map": {t.name: names.physical(t.name) for t in TOPIC_MAP},
        "bucket_map": dict(sorted(settings.objects.buckets.items())),
        "region": settings.objects.region,
        "postgres": {k: str(pg[k]) for k in ("host", "port", "dbname") if k in pg},
        "redis": _without_password(settings.require_redis().url),
        "quarantine_index": ({"backend": "dynamodb", "table": settings.dynamodb.quarantine_table}
                             if settings.quarantine_index == "dynamodb" else {"backend": "postgres",
                                                                              "table": "quarantine_index"}),
        "ssm_parameters": credential_parameters(settings.bus),
    }
    if settings.objects.endpoint_url:
        record["objects_endpoint"] = settings.objects.endpoint_url
    return record


def memory_substrate(settings: Settings) -> dict[str, Any]:
    return {"env": settings.env, "memory": {"namespace": settings.memory.namespace}}
