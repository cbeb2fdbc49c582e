"""IG's lanes on the real substrate (D64): WSP streaming through a forked lane gives, against a run of the
same seed and ids through one gate, the same receipts, the same quarantine, and every partition the same
records in the same order (each record on the partition ``fp_core.topics.partition_of`` says, which is
what the lanes route by); a lane SIGKILLed between submissions is taken over by WSP's own gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import psycopg
import pytest
from confluent_kafka import Consumer, TopicPartition

from fp_adapters.kafka.names import TopicNames
from fp_adapters.settings import SETTINGS_JSON_ENV, Settings, load_settings
from fp_core import topics
from fp_core.event_class import FRAUD_CLASS_MAP
from fp_core.topics import partition_of
from tests.conftest import isolated_settings

pytestmark = [pytest.mark.substrate]

# A fresh interpreter (a single thread, so the lane can be forked), as ``fp-wsp`` streams a run. argv[1]:
# kill lane 1 (SIGKILL) after that many submissions, 0 for never.
STREAM = """
import json, os, signal, sys
from fp_apps.wiring import platform
from fp_core.run_config import RunConfig
from fp_core.services import ig_lanes
from fp_core.services.sr import seal_world

kill_after = int(sys.argv[1])
with platform("local_parity", ig_lanes=True) as c:
    pool = c.lanes()
    if pool is not None and kill_after:
        submit, done = ig_lanes.LanedGate.submit, []
        def killing(self, submission_id, raws):
            out = submit(self, submission_id, raws)
            done.append(submission_id)
            if len(done) == kill_after:
                os.kill(pool.lanes[0].pid, signal.SIGKILL)
            return out
        ig_lanes.LanedGate.submit = killing
    seal_world(c.adapters.objects(), 11, 3000)
    config = RunConfig(env="local_parity", seed=11, events=3000, drills=("duplicates", "payload_mismatch",
                       "quarantine"), ingest_batch=500)
    fact = c.wsp().stream(c.sr().ready(config, "pr-lanes"))
    print(json.dumps({"forked": 0 if pool is None else len(pool.lanes), "outcomes": fact.outcomes}))
"""


def stream(settings: Settings, kill_after: int = 0) -> tuple[dict[str, object], str]:
    env = {**os.environ, SETTINGS_JSON_ENV: settings.model_dump_json()}
    done = subprocess.run([sys.executable, "-c", STREAM, str(kill_after)], capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def truth(settings: Settings) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], dict[str, list[str]]]:
    assert settings.postgres is not None
    with psycopg.connect(settings.postgres.dsn) as conn:
        receipts = conn.execute(
            "SELECT receipt_id, event_class, event_id, outcome, reason, payload_hash, publish_state, pub_topic, "
            "pub_partition, pub_offset FROM receipts ORDER BY receipt_id").fetchall()
        quarantine = conn.execute(
            "SELECT receipt_id, reason, event_id, payload_hash FROM quarantine_index ORDER BY receipt_id").fetchall()
    names = TopicNames(settings.bus.topic_prefix)
    consumer = Consumer({"bootstrap.servers": settings.bus.bootstrap, "group.id": f"lanes-{uuid.uuid4().hex[:6]}",
                         "enable.auto.commit": False})
    bus: dict[str, list[str]] = {}
    try:
        ends: dict[tuple[str, int], int] = {}
        for cls in FRAUD_CLASS_MAP.values():
            spec = next(s for s in topics.TOPIC_MAP if s.name == cls.topic)
            for p in range(spec.partitions):
                low, high = consumer.get_watermark_offsets(TopicPartition(names.physical(cls.topic), p), timeout=10)
                assert low == 0
                ends[(names.physical(cls.topic), p)] = high
        consumer.assign([TopicPartition(t, p, 0) for t, p in ends])
        remaining = sum(ends.values())
        while remaining:
            batch = consumer.consume(remaining, 10.0)
            assert batch, f"{remaining} records not read"
            for m in batch:
                assert m.error() is None, m.error()
                topic, partition = names.logical(m.topic()), m.partition()
                doc = json.loads(m.value())
                assert m.key() == doc["payload"]["merchant_id"].encode()
                assert partition_of(m.key(), 3) == partition, (topic, m.key(), partition)
                bus.setdefault(f"{topic}/{partition}", []).append(f"{m.offset()}:{doc['event_id']}:{m.value().hex()}")
            remaining -= len(batch)
    finally:
        consumer.close()
    return receipts, quarantine, bus


def test_a_forked_lane_gives_what_one_gate_gives_and_a_killed_lane_is_taken_over(substrate: None) -> None:
    base = load_settings("local_parity")
    one = isolated_settings(base, f"lanes1_{uuid.uuid4().hex[:6]}", 6)
    one = one.model_copy(update={"ig": one.ig.model_copy(update={"lanes": 1})})
    single, _ = stream(one)
    expected = truth(one)
    assert single["forked"] == 0
    assert {"ADMIT", "DUPLICATE", "ANOMALY", "QUARANTINE"} <= set(single["outcomes"])  # type: ignore[arg-type]

    two = isolated_settings(base, f"lanes2_{uuid.uuid4().hex[:6]}", 7)
    two = two.model_copy(update={"ig": two.ig.model_copy(update={"lanes": 2})})
    laned, _ = stream(two)
    assert laned == {**single, "forked": 1}
    assert truth(two) == expected

    killed = isolated_settings(base, f"lanesk_{uuid.uuid4().hex[:6]}", 8)
    killed = killed.model_copy(update={"ig": killed.ig.model_copy(update={"lanes": 2})})
    after_kill, stderr = stream(killed, kill_after=2)
    assert after_kill == {**single, "forked": 1}
    assert "ig.lane_lost" in stderr
    assert truth(killed) == expected
