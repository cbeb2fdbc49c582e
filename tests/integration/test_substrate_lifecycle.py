"""The substrate itself: idempotent up, clear port-conflict errors, data surviving a restart."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import psycopg
import pytest

from fp_adapters.containers import build_container
from fp_adapters.kafka.client_config import BusCredentials, client_config
from fp_adapters.kafka.consumer import KafkaBusConsumer
from fp_adapters.kafka.names import TopicNames
from fp_adapters.kafka.producer import KafkaBusProducer
from fp_adapters.settings import DrillSettings, Settings
from fp_core.evidence import verify_bundle
from fp_core.ports import OutboundMessage
from fp_core.run_config import DRILLS, RunConfig
from fp_ops import substrate as sub
from fp_ops.process import SpawnedService, SubstrateError
from fp_ops.services.kafka import cluster_id, kafka_jars
from fp_ops.services.postgres import PostgresService, traversable_by_others

pytestmark = [pytest.mark.substrate, pytest.mark.slow]


def test_up_is_idempotent_and_status_reports_every_service(substrate: None) -> None:
    timings = sub.up()
    assert timings["total"] < 30
    rows = {r["service"]: r for r in sub.status()}
    assert set(rows) == {"kafka", "postgres", "redis", "objects", "moto"}
    assert all(r["running"] for r in rows.values())


def test_port_in_use_names_the_service_and_its_log(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        svc = SpawnedService("probe", port, f"127.0.0.1:{port}", lambda: tmp_path)
        with pytest.raises(SubstrateError, match=r"probe: port \d+ is in use.*probe.log"):
            svc.spawn(["sleep", "1"])


def test_cluster_ids_never_look_like_options() -> None:
    ids = {cluster_id() for _ in range(2000)}
    assert len(ids) == 2000 and not any(i.startswith("-") for i in ids) and all(len(i) == 22 for i in ids)


def test_postgres_home_is_reachable_by_the_postgres_user() -> None:
    assert traversable_by_others(PostgresService().dir.parent)


def test_unreachable_maven_fails_clearly_and_swaps_nothing(tmp_path: Path) -> None:
    libs = tmp_path / "libs"
    with pytest.raises(SubstrateError, match=r"could not fetch the broker jars from Maven Central.*never swapped"):
        kafka_jars(libs, ("-o", f"-Dmaven.repo.local={tmp_path / 'empty-repo'}"), tmp_path / "mvn.log")
    assert not list(libs.glob("*.jar")) and (tmp_path / "mvn.log").exists()


def test_kafka_postgres_and_object_store_data_survive_a_restart(fresh_settings: Settings) -> None:
    container = build_container("local_parity", fresh_settings.model_copy(update={
        "drills": DrillSettings(lag_pause_s=0.3)}))
    container.init_resources()
    try:
        ran = container.workflow().run(RunConfig(env="local_parity", seed=3, events=800, drills=DRILLS), "pr-durable")
    finally:
        container.shutdown_resources()
    assert ran.status == "COMPLETED"
    objects = container.adapters.objects()
    prefixes = ("evidence/runs/pr-durable/", "oracle/", "archive/pr-durable/")
    before = {prefix: objects.list(prefix) for prefix in prefixes}
    assert all(before.values()), before
    marker = uuid.uuid4().hex
    conf = client_config(fresh_settings.bus, BusCredentials(bootstrap=fresh_settings.bus.bootstrap))
    names = TopicNames(fresh_settings.bus.topic_prefix)
    [d] = KafkaBusProducer(conf, names).publish([OutboundMessage("fp.bus.control.v1", b"k", marker.encode())])
    assert d.origin is not None
    with psycopg.connect(fresh_settings.postgres.dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO admission_index VALUES ('durable', 'c', %s, 'h')", (marker,))

    stopped = sub.down()
    assert set(stopped) >= {"postgres", "kafka", "redis", "objects", "moto"}
    assert not any(r["running"] for r in sub.status())
    sub.up()

    with psycopg.connect(fresh_settings.postgres.dsn) as conn:
        assert conn.execute("SELECT event_id FROM admission_index WHERE platform_run_id = 'durable'").fetchone() == (
            marker,)
    consumer = KafkaBusConsumer(conf, "durability", names)
    consumer.assign({("fp.bus.control.v1", 0): d.origin.offset})
    got = []
    for _ in range(20):
        got = consumer.poll_batch(1, 1.0)
        if got:
            break
    consumer.close()
    assert got and got[0].value == marker.encode()
    after = {prefix: objects.list(prefix) for prefix in before}
    assert after == before
    bundle = {k.removeprefix("evidence/runs/pr-durable/"): objects.get(k) for k in after["evidence/runs/pr-durable/"]}
    assert verify_bundle(bundle) == []
    assert all(objects.get(k) for k in after["oracle/"] + after["archive/pr-durable/"])
