"""Adapter contracts against the real services: Kafka, Postgres, Redis, the S3 API."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import psycopg
import pytest
import redis

from fp_adapters.aws import s3_client
from fp_adapters.kafka.client_config import BusCredentials, client_config
from fp_adapters.kafka.consumer import KafkaBusConsumer
from fp_adapters.kafka.names import TopicNames
from fp_adapters.kafka.producer import KafkaBusProducer
from fp_adapters.postgres.admission_index import PgAdmissionIndex
from fp_adapters.postgres.connection import connect, migrate, migrations
from fp_adapters.redis.join_store import RedisJoinStore
from fp_adapters.s3.object_store import S3ObjectStore
from fp_adapters.settings import Settings
from fp_core.context import ContextItem, ContextKind
from fp_core.errors import AppendOnlyViolation, NotFound, ObjectExists
from fp_core.identity import DedupeKey
from fp_core.offsets import OriginOffset
from fp_core.ports import OutboundMessage

pytestmark = pytest.mark.substrate

APPEND_ONLY = ["admission_index", "receipts", "publish_log", "quarantine_index", "audit_log", "action_intents",
               "action_outcomes", "case_timeline", "label_assertions", "consumer_checkpoints"]


@pytest.fixture
def conn(fresh_settings: Settings) -> Iterator[psycopg.Connection]:
    c = connect(fresh_settings.postgres.dsn)
    yield c
    c.close()


def kafka_conf(s: Settings) -> dict[str, str | int | float | bool]:
    return client_config(s.bus, BusCredentials(bootstrap=s.bus.bootstrap))


def test_produce_consume_commit_round_trip_with_offsets(fresh_settings: Settings) -> None:
    names = TopicNames(fresh_settings.bus.topic_prefix)
    producer = KafkaBusProducer(kafka_conf(fresh_settings), names)
    msgs = [OutboundMessage("fp.bus.traffic.fraud.v1", f"m{i % 4}".encode(), f"v{i}".encode()) for i in range(50)]
    deliveries = producer.publish(msgs)
    assert all(d.origin is not None and d.error is None for d in deliveries)
    consumer = KafkaBusConsumer(kafka_conf(fresh_settings), "contract", names)
    end = consumer.end_offsets(["fp.bus.traffic.fraud.v1"])
    assert sum(end.values()) == 50
    consumer.assign(dict.fromkeys(end, 0))
    got = []
    while len(got) < 50:
        got.extend(consumer.poll_batch(100, 1.0))
    assert sorted(r.value for r in got) == sorted(m.value for m in msgs)
    by_origin = {r.origin: r.value for r in got}
    for m, d in zip(msgs, deliveries, strict=True):
        assert d.origin is not None and by_origin[d.origin] == m.value  # delivery offsets are where records are
    consumer.commit(dict(end))
    assert consumer.committed(list(end)) == {tp: (n or None) for tp, n in end.items()}
    consumer.close()
    producer.close()


def test_consumer_resumes_from_the_committed_offset_only(fresh_settings: Settings) -> None:
    names = TopicNames(fresh_settings.bus.topic_prefix)
    producer = KafkaBusProducer(kafka_conf(fresh_settings), names)
    producer.publish([OutboundMessage("fp.bus.control.v1", b"k", f"{i}".encode()) for i in range(10)])
    c1 = KafkaBusConsumer(kafka_conf(fresh_settings), "resume", names)
    c1.assign({("fp.bus.control.v1", 0): 0})
    first = []
    while len(first) < 10:
        first.extend(c1.poll_batch(10, 1.0))
    c1.commit({("fp.bus.control.v1", 0): 4})  # only the first four made durable
    c1.close()
    c2 = KafkaBusConsumer(kafka_conf(fresh_settings), "resume", names)
    committed = c2.committed([("fp.bus.control.v1", 0)])[("fp.bus.control.v1", 0)]
    assert committed == 4
    c2.assign({("fp.bus.control.v1", 0): committed})
    again = []
    while len(again) < 6:
        again.extend(c2.poll_batch(10, 1.0))
    assert [r.origin.offset for r in again] == list(range(4, 10))
    c2.close()


def test_admission_index_first_writer_wins_under_concurrent_writers(fresh_settings: Settings) -> None:
    keys = [DedupeKey("pr-c", "traffic_fraud", f"{i:032x}") for i in range(200)]
    results: dict[int, dict[DedupeKey, object]] = {}

    def writer(n: int) -> None:
        c = connect(fresh_settings.postgres.dsn)
        try:
            results[n] = PgAdmissionIndex(c).claim(dict.fromkeys(keys, f"hash-{n}"))  # type: ignore[assignment]
        finally:
            c.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    c = connect(fresh_settings.postgres.dsn)
    firsts = PgAdmissionIndex(c).first_hashes(keys)
    c.close()
    for k in keys:
        winners = [n for n, claims in results.items() if claims[k].claimed_now]  # type: ignore[attr-defined]
        assert len(winners) == 1, k
        assert firsts[k] == f"hash-{winners[0]}"
        for claims in results.values():
            assert claims[k].first_payload_hash == firsts[k]  # type: ignore[attr-defined]


SEED_ROW = {
    "admission_index": "INSERT INTO admission_index VALUES ('r', 'c', 'e', 'h')",
    "receipts": "INSERT INTO receipts (receipt_id, platform_run_id, scenario_run_id, event_class, event_id, "
                "event_type, outcome, detail, payload_hash) VALUES ('x', 'r', 's', 'c', 'e', 't', 'ADMIT', '', 'h')",
    "publish_log": "INSERT INTO publish_log (platform_run_id, event_class, event_id, state, error) "
                   "VALUES ('r', 'c', 'e', 'PUBLISHED', '')",
    "quarantine_index": "INSERT INTO quarantine_index VALUES ('r', 'c', 'e', 'R', 'x', 'q', '', 'h', 'k', 0)",
    "audit_log": "INSERT INTO audit_log (audit_id, platform_run_id, event_id, record) VALUES ('a', 'r', 'e', '{}')",
    "action_intents": "INSERT INTO action_intents (idempotency_key, decision_id, platform_run_id, action) "
                      "VALUES ('k', 'd', 'r', 'APPROVE')",
    "action_outcomes": "INSERT INTO action_intents (idempotency_key, decision_id, platform_run_id, action) "
                       "VALUES ('k2', 'd', 'r', 'APPROVE'); INSERT INTO action_outcomes (outcome_id, "
                       "idempotency_key, platform_run_id, action, status) VALUES ('o', 'k2', 'r', 'APPROVE', 'E')",
    "case_timeline": "INSERT INTO case_timeline (event_id, case_id, platform_run_id, record) "
                     "VALUES ('e', 'c', 'r', '{}')",
    "label_assertions": "INSERT INTO label_assertions (assertion_id, platform_run_id, event_id, record) "
                        "VALUES ('a', 'r', 'e', '{}')",
    "consumer_checkpoints": "INSERT INTO consumer_checkpoints (platform_run_id, consumer_group, topic, partition, "
                            "start_offset, end_offset) VALUES ('r', 'g', 't', 0, 0, 0)",
}


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_append_only_tables_reject_update_delete_truncate(conn: psycopg.Connection, table: str) -> None:
    with conn.transaction():
        conn.execute(SEED_ROW[table])
    column = "status" if table == "action_outcomes" else "platform_run_id"
    for sql in (f"UPDATE {table} SET {column} = 'x'", f"DELETE FROM {table}", f"TRUNCATE {table} CASCADE"):
        with pytest.raises(psycopg.Error, match="append-only"), conn.transaction():
            conn.execute(sql)
    assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (1,)
    conn.rollback()


def test_adapter_translates_append_only_violation(conn: psycopg.Connection) -> None:
    from fp_adapters.postgres.base import PgStore

    store = PgStore(conn)
    with store.tx() as c:
        c.execute("INSERT INTO admission_index VALUES ('r', 'c', 'e', 'h')")
    with pytest.raises(AppendOnlyViolation, match="append-only"), store.tx() as c:
        c.execute("UPDATE admission_index SET payload_hash = 'other'")


def test_migrations_are_idempotent(conn: psycopg.Connection) -> None:
    assert migrate(conn) == []
    assert migrate(conn) == []
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    conn.rollback()
    assert versions == [name for name, _ in migrations()]


def test_object_store_is_write_once_unless_told(fresh_settings: Settings) -> None:
    store = S3ObjectStore(s3_client(fresh_settings), fresh_settings.objects.buckets)
    key = f"evidence/runs/{uuid.uuid4().hex}/run.json"
    store.put(key, b"first")
    with pytest.raises(ObjectExists):
        store.put(key, b"second")
    assert store.get(key) == b"first"
    store.put(key, b"third", overwrite=True)
    assert store.get(key) == b"third"
    assert store.exists(key) and not store.exists(key + ".nope")
    with pytest.raises(NotFound):
        store.get(key + ".nope")
    assert store.list(key.rsplit("/", 1)[0]) == [key]
    with pytest.raises(ValueError, match="no bucket"):
        store.put("elsewhere/x", b"")


def test_join_store_round_trip_and_event_time_velocity(fresh_settings: Settings) -> None:
    store = RedisJoinStore(redis.Redis.from_url(fresh_settings.redis.url), 60)
    o = OriginOffset(topic="t", partition=0, offset=0)
    items = [ContextItem(kind=ContextKind.ENTITIES, key=f"a{i}", ts_ms=1000 + i * 100, payload={"card_id": "k1"},
                         origin=o) for i in range(5)]
    items.append(ContextItem(kind=ContextKind.FLOW_ANCHOR, key="f1", ts_ms=5, payload={"arrival_id": "a1"}, origin=o))
    store.put("pr", items)
    got = store.get("pr", [(ContextKind.FLOW_ANCHOR, "f1"), (ContextKind.ENTITIES, "a3"),
                           (ContextKind.ARRIVAL, "zz")])
    assert got[(ContextKind.FLOW_ANCHOR, "f1")] == items[-1]
    assert got[(ContextKind.ENTITIES, "a3")] == items[3]
    assert (ContextKind.ARRIVAL, "zz") not in got
    assert store.card_velocity("pr", [("k1", 1250), ("k1", 1000), ("k1", 99_999), ("k2", 1300)], 1000) == [3, 0, 0, 0]
    assert store.get("other-run", [(ContextKind.FLOW_ANCHOR, "f1")]) == {}
