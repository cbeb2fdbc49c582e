"""Hostile input through the real IG and RTDL on local_parity (Postgres, Kafka, Redis, the object store):
any byte string per line gets exactly one receipt, and whatever IG admits RTDL decides without a crash
or a dead letter."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fp_adapters.containers import Platform, build_container
from fp_adapters.settings import load_settings
from fp_core import topics
from fp_core.event_class import TRAFFIC_CLASS
from fp_core.receipts import AdmissionOutcome
from fp_core.run_config import RunConfig
from fp_core.services.control import ReadySignal
from fp_core.services.ig import IngestionGate
from tests.conftest import isolated_settings

pytestmark = [pytest.mark.substrate]

FIELDS = ("event_id", "event_type", "ts_utc", "schema_version", "producer", "pins", "payload",
          "payload.amount_minor", "payload.txn_id", "payload.currency", "payload.merchant_country",
          "payload.flow_id", "payload.merchant_id", "pins.platform_run_id")
VALUES = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                   st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
                   st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


class Run:
    def __init__(self, container: Platform, ready: ReadySignal) -> None:
        self.container, self.ready = container, ready
        self.gate: IngestionGate = container.gate(ready.pins)
        self.submissions = 0
        self.lines = 0
        self.fresh = 0

    def envelope(self, n: int, amount: int) -> dict[str, Any]:
        return {"event_id": f"{n:032x}", "event_type": "transaction", "ts_utc": "2026-01-01T00:00:00.000+00:00",
                "pins": self.ready.pins.model_dump(mode="json"), "producer": "wsp", "schema_version": "fp.event.v1",
                "payload": {"txn_id": f"t{n}", "flow_id": f"f{n}", "merchant_id": "m1", "amount_minor": amount,
                            "currency": "GBP", "merchant_country": "GB"}}


@pytest.fixture(scope="module")
def run(substrate: None) -> Iterator[Run]:
    settings_ = isolated_settings(load_settings("local_parity"), f"hostile_{uuid.uuid4().hex[:6]}", 12)
    container = build_container("local_parity", settings_)
    container.init_resources()
    try:
        yield Run(container, container.sr().ready(RunConfig(env="local_parity", seed=5, events=8), "pr-hostile"))
    finally:
        container.shutdown_resources()


@st.composite
def line(draw: st.DrawFn, run: Run) -> bytes:
    kind = draw(st.sampled_from(["bytes", "text", "mutated", "valid", "raw-json"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "text":
        return draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")
    run.fresh += 1  # mostly new event ids (hypothesis would otherwise shrink them all to one)
    n = draw(st.sampled_from([run.fresh, run.fresh, run.fresh, 0]))
    doc = run.envelope(n, draw(st.integers(0, 10**9)))
    if kind == "mutated":
        path = draw(st.sampled_from(FIELDS)).split(".")
        target = doc
        for p in path[:-1]:
            target = target[p]
        target[path[-1]] = draw(VALUES)
    if kind == "raw-json":  # bytes json.dumps would never produce: NaN, 1e400, control characters
        text = json.dumps(doc).replace('"GBP"', draw(st.sampled_from(
            ['NaN', '1e400', '-Infinity', '"G\\u0000P"', '"\\ud800"', '"GBP", "GBP": 1', '"GBP"\r'])))
        return text.encode()
    return json.dumps(doc, allow_nan=True).encode()


def test_any_line_gets_exactly_one_receipt_and_whatever_is_admitted_is_decided(run: Run) -> None:
    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(st.deferred(lambda: line(run)), min_size=1, max_size=12))
    def each_batch(lines: list[bytes]) -> None:
        run.submissions += 1
        receipts = run.gate.submit(f"hostile-{run.submissions}", lines)
        run.lines += len(lines)
        assert len(receipts) == len(lines)
        for r in receipts:
            assert (r.reason is not None) == (r.outcome in (AdmissionOutcome.QUARANTINE, AdmissionOutcome.ANOMALY))

    each_batch()
    c = run.container
    counts = c.adapters.receipts().counts(run.ready.pins.platform_run_id)
    assert sum(sum(v.values()) for v in counts.values()) == run.lines
    admitted = counts.get(TRAFFIC_CLASS, {}).get("ADMIT", 0)
    assert admitted > 0, "the strategy admitted nothing; the property proves nothing"
    end = c.probe().end_offsets(list(topics.RTDL_INPUTS))
    done = c.rtdl().decide_until(run.ready, end)
    assert done.stats["dead_letters"] == 0 and done.stats["decisions"] == admitted, done.stats
    print(f"hostile lines {run.lines}: receipts {counts}, decided {done.stats['decisions']}")
