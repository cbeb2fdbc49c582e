"""Postgres-specific guarantees beyond the port contracts (those are in ``fp_conformance.contracts`` and
run against every adapter set): append-only enforced by the database itself, its translation into
AppendOnlyViolation, and idempotent migrations."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from fp_adapters.postgres.connection import connect, migrate, migrations
from fp_adapters.postgres.receipts import PgReceiptLog
from fp_adapters.settings import Settings
from fp_core.errors import AppendOnlyViolation, InvalidInput

pytestmark = pytest.mark.substrate

APPEND_ONLY = ["admission_index", "receipts", "publish_log", "quarantine_index", "audit_log", "action_intents",
               "action_outcomes", "case_timeline", "label_assertions", "consumer_checkpoints", "bundle_registry"]


@pytest.fixture
def conn(fresh_settings: Settings) -> Iterator[psycopg.Connection]:
    c = connect(fresh_settings.postgres.dsn)
    yield c
    c.close()



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
    "bundle_registry": "INSERT INTO bundle_registry (record_id, bundle_id, event, record) "
                       "VALUES ('x', 'b', 'REGISTERED', '{}')",
}


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_append_only_tables_reject_update_delete_truncate(conn: psycopg.Connection, table: str) -> None:
    with conn.transaction():
        conn.execute(SEED_ROW[table])
    column = {"action_outcomes": "status", "bundle_registry": "bundle_id"}.get(table, "platform_run_id")
    for sql in (f"UPDATE {table} SET {column} = 'x'", f"DELETE FROM {table}", f"TRUNCATE {table} CASCADE"):
        with pytest.raises(psycopg.Error, match="append-only"), conn.transaction():
            conn.execute(sql)
    assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (1,)
    conn.rollback()


def test_adapter_translates_append_only_violation(fresh_settings: Settings) -> None:
    from fp_adapters.postgres.base import PgStore
    from fp_adapters.postgres.connection import open_pool

    pool = open_pool(fresh_settings.require_postgres().dsn, 1, 5.0)
    try:
        store = PgStore(pool)
        with store.tx() as c:
            c.execute("INSERT INTO admission_index VALUES ('r', 'c', 'e', 'h')")
        with pytest.raises(AppendOnlyViolation, match="append-only"), store.tx() as c:
            c.execute("UPDATE admission_index SET payload_hash = 'other'")
        with pytest.raises(InvalidInput, match="NUL"):  # the caller's bad value, not a driver traceback
            PgReceiptLog(pool).for_events("r", ["a\x00b"])
    finally:
        pool.close()


def test_migrations_are_idempotent(conn: psycopg.Connection) -> None:
    assert migrate(conn) == []
    assert migrate(conn) == []
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    conn.rollback()
    assert versions == [name for name, _ in migrations()]
