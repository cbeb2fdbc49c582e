"""The join plane obeys commit-after-durable on real Redis: Redis is SIGKILLed right after RTDL made a
batch durable and its append-only file loses its unsynced tail (what a machine crash does to
``appendfsync everysec``); after Redis restarts, RTDL resumes and decides exactly what an undisturbed run
decides."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest
import redis
from dependency_injector import providers

from fp_adapters.containers import build_container
from fp_adapters.settings import Settings, load_settings
from fp_core.decisions import ActionOutcome, AuditRecord
from fp_core.ports import DecisionLedger
from fp_core.run_config import RunConfig
from fp_core.services.control import input_range
from fp_core.services.replay import decision_digest
from fp_core.services.rtdl import CONTEXT_TOPICS, RTDL_GROUP
from fp_ops.process import alive, port_open, wait_healthy
from fp_ops.services.redis import RedisService
from tests.conftest import isolated_settings

pytestmark = [pytest.mark.substrate, pytest.mark.slow]
CONFIG = RunConfig(env="local_parity", seed=8, events=2400, decision_batch=40)


class AuditThenRedisCrash:
    """Marks the AOF's size before RTDL starts; after ``after`` durable decision batches SIGKILLs Redis and
    cuts the AOF back to the mark (every write since — this attempt's join plane — is what an unsynced
    tail loses in a machine crash), then fails the batch (the RTDL process dies with it)."""

    def __init__(self, inner: DecisionLedger, after: int) -> None:
        self.inner, self.after, self.done = inner, after, 0
        newest = newest_incr_aof()
        self.mark = (newest, newest.stat().st_size)

    def record(self, records: Sequence[AuditRecord]) -> list[ActionOutcome]:
        if self.done >= self.after:
            crash_redis(*self.mark)
            raise ConnectionError("RTDL died with Redis (injected)")
        self.done += 1
        return self.inner.record(records)


def newest_incr_aof() -> Path:
    return max((RedisService().dir / "appendonlydir").glob("*.incr.aof"), key=lambda p: p.stat().st_mtime)


def crash_redis(aof: Path, keep: int) -> None:
    svc = RedisService()
    pid = svc.pid()
    assert pid is not None and alive(pid)
    assert newest_incr_aof() == aof, "the AOF rotated during the test (a rewrite ran)"
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while (alive(pid) or port_open(svc.port)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert aof.stat().st_size > keep
    with aof.open("r+b") as f:
        f.truncate(keep)


def run_rtdl(settings: Settings, run: str, crash_after: int | None) -> dict[str, str]:
    container = build_container("local_parity", settings)
    container.init_resources()
    try:
        facts = container.facts().read(run)
        if crash_after is not None:
            real = container.adapters.decision_ledger()
            container.adapters.decision_ledger.override(providers.Object(AuditThenRedisCrash(real, crash_after)))
            with pytest.raises(ConnectionError):
                container.rtdl().decide(facts.ready, facts.require_stream())
            return {}
        done = container.rtdl().decide(facts.ready, facts.require_stream())
        assert done.stats["decisions"] >= 0
        return {a.decision.decision_id: decision_digest(a.decision) for a in container.adapters.audit_log().scan(run)}
    finally:
        container.shutdown_resources()


def prepare(tag: str, redis_db: int, run: str) -> Settings:
    settings = isolated_settings(load_settings("local_parity"), f"{tag}_{uuid.uuid4().hex[:6]}", redis_db)
    container = build_container("local_parity", settings)
    container.init_resources()
    try:
        container.wsp().stream(container.sr().ready(CONFIG, run))
    finally:
        container.shutdown_resources()
    return settings


def test_redis_sigkill_with_a_lost_aof_tail_still_gives_the_undisturbed_decisions(substrate: None) -> None:
    run = "pr-joinplane"
    clean = prepare("jp_clean", 8, run)
    expected = run_rtdl(clean, run, None)
    assert len(expected) == 600

    crashed = prepare("jp_crash", 9, run)
    no_rewrite = redis.Redis.from_url(crashed.require_redis().url)
    no_rewrite.config_set("auto-aof-rewrite-percentage", 0)  # no AOF rotation mid-test (reset by the restart)
    no_rewrite.close()
    run_rtdl(crashed, run, crash_after=5)
    svc = RedisService()
    svc.start()
    wait_healthy(svc)
    assert lost_context(crashed, run), "the truncated AOF lost nothing of the join plane; the test proves nothing"
    assert run_rtdl(crashed, run, None) == expected


def lost_context(settings: Settings, run: str) -> dict[tuple[str, int], tuple[int, int]]:
    """Context partitions whose surviving join-plane position is behind what RTDL had made durable."""
    container = build_container("local_parity", settings)
    container.init_resources()
    try:
        facts = container.facts().read(run)
        start, _end = input_range(facts.require_stream())
        durable = container.drainer().resume_positions(RTDL_GROUP, run, start)
        kept = container.adapters.join_store().positions(run)
        return {tp: (kept.get(tp, start[tp]), durable[tp]) for tp in start
                if tp[0] in CONTEXT_TOPICS and kept.get(tp, start[tp]) < durable[tp]}
    finally:
        container.shutdown_resources()


def test_join_store_calls_outlast_a_redis_restart_on_a_new_connection(substrate: None) -> None:
    """A call that must open a connection while Redis is down (refused, then LOADING) waits for it."""
    import threading

    from fp_adapters.redis.join_store import RedisJoinStore
    from fp_core.context import ContextKind

    settings = load_settings("local_parity")
    client = redis.Redis.from_url(settings.require_redis().url)  # no retry of its own: the store's loop only
    store = RedisJoinStore(client, 60, reconnect_s=20)
    svc = RedisService()
    svc.stop()

    def restart() -> None:
        time.sleep(1.5)
        svc.start()

    t = threading.Thread(target=restart)
    t.start()
    started = time.monotonic()
    try:
        assert store.get("pr-restart", [(ContextKind.FLOW_ANCHOR, "nope")]) == {}
        assert time.monotonic() - started >= 1.0  # it waited for the restart instead of failing
    finally:
        t.join()
        wait_healthy(svc)
        client.close()
