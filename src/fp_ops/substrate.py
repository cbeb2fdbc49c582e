"""The local_parity substrate: real Kafka (KRaft), PostgreSQL, Redis, a persistent S3-API object store
(versitygw on the file system) and the moto AWS API server (dev_min's emulated S3, DynamoDB, SSM).

Everything runs on loopback, on non-default ports, with data under ``.substrate/`` and a pid file per
service, so ``up`` is idempotent and ``down`` stops only what ``up`` started. Each service is one
module of ``fp_ops.services`` behind the same start/healthy/stop protocol.
"""

from __future__ import annotations

import time

from fp_ops.process import LocalService, SubstrateError, wait_healthy
from fp_ops.provision import provision_all
from fp_ops.services.kafka import KafkaService
from fp_ops.services.moto import MotoService
from fp_ops.services.objects import ObjectStoreService
from fp_ops.services.postgres import PostgresService
from fp_ops.services.redis import RedisService

__all__ = ["SubstrateError", "down", "services", "status", "up"]


def services() -> tuple[LocalService, ...]:
    return (KafkaService(), PostgresService(), RedisService(), ObjectStoreService(), MotoService())


def up() -> dict[str, float]:
    """Start what is not running, wait for real health, provision; returns seconds per step."""
    t0 = time.monotonic()
    timings: dict[str, float] = {}
    all_services = services()
    for svc in all_services:
        svc.start()
    timings["start"] = round(time.monotonic() - t0, 2)
    for svc in all_services:
        t = time.monotonic()
        wait_healthy(svc)
        timings[f"healthy_{svc.name}"] = round(time.monotonic() - t, 2)
    t = time.monotonic()
    provision_all()
    timings["provision"] = round(time.monotonic() - t, 2)
    timings["total"] = round(time.monotonic() - t0, 2)
    return timings


def down() -> list[str]:
    """Stop what ``up`` started; data stays under the substrate directory. Returns what was stopped."""
    return [svc.name for svc in services() if svc.stop()]


def status() -> list[dict[str, str | bool]]:
    return [{"service": s.name, "running": s.running(), "address": s.address, "log": str(s.log)}
            for s in services()]
