"""Hostile input at the boundary: every line gets exactly one receipt with a reason, ``screen`` never
raises, what IG admits RTDL can decode, and a record RTDL cannot use is dead-lettered, not fatal."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from fp_adapters.containers import Platform
from fp_core import topics
from fp_core.admission import screen
from fp_core.event_class import FRAUD_CLASS_MAP
from fp_core.ports import OutboundMessage
from fp_core.receipts import AdmissionOutcome, QuarantineReason
from fp_core.run_config import RunConfig
from tests.unit.test_admission import PINS, envelope

GOOD = json.loads(envelope())


def variant(**over: object) -> bytes:
    doc = json.loads(json.dumps(GOOD))
    for path, value in over.items():
        target = doc
        *parents, leaf = path.split("__")
        for p in parents:
            target = target[p]
        target[leaf] = value
    return json.dumps(doc).encode()


HOSTILE: dict[str, tuple[bytes, QuarantineReason]] = {
    "NaN amount": (variant(payload__amount_minor=float("nan")), QuarantineReason.INVALID_PAYLOAD),
    "Infinity": (envelope().replace(b'"currency": "GBP"', b'"currency": "GBP", "x": Infinity'),
                 QuarantineReason.INVALID_PAYLOAD),
    "1e400": (envelope().replace(b'"currency": "GBP"', b'"currency": "GBP", "x": 1e400'),
              QuarantineReason.INVALID_PAYLOAD),
    "amount as a string": (variant(payload__amount_minor="123"), QuarantineReason.INVALID_PAYLOAD),
    "NUL in a field name": (variant(**{"payload__a\u0000b": 1}), QuarantineReason.INVALID_PAYLOAD),
    "lower-case t and z": (variant(ts_utc="2026-01-01t00:00:00z"), QuarantineReason.INVALID_ENVELOPE),
    "epoch seconds as ts": (variant(ts_utc="1767225600"), QuarantineReason.INVALID_ENVELOPE),
    "lone surrogate": (envelope().replace(b'"currency": "GBP"', b'"currency": "GBP", "x": "\\ud800"'),
                       QuarantineReason.INVALID_ENVELOPE),
}


def test_each_hostile_line_is_quarantined_with_its_reason_and_a_storable_detail(memory: Platform) -> None:
    gate = memory.gate(PINS)
    receipts = gate.submit("hostile", [raw for raw, _ in HOSTILE.values()])
    assert len(receipts) == len(HOSTILE)
    for (name, (_raw, reason)), receipt in zip(HOSTILE.items(), receipts, strict=True):
        assert (receipt.outcome, receipt.reason) == (AdmissionOutcome.QUARANTINE, reason), name
        assert all(c.isprintable() for c in receipt.detail), (name, receipt.detail)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=200).map(str.encode))
def test_screen_never_raises_on_any_bytes(raw: bytes) -> None:
    screen(raw, PINS, FRAUD_CLASS_MAP)


def test_rtdl_dead_letters_a_poisoned_record_and_decides_the_rest(memory: Platform) -> None:
    config = RunConfig(env="memory", seed=6, events=400)
    ready = memory.sr().ready(config, "pr-poison")
    stream = memory.wsp().stream(ready)
    poison = json.dumps({"pins": {"platform_run_id": "pr-poison"}, "ts_utc": "not a time", "payload": {}})
    not_an_object = json.dumps({"pins": {"platform_run_id": "pr-poison"}, "ts_utc": "2026-01-01T00:00:00+00:00",
                                "payload": ["flow_id", "f1"]})  # a context payload must be an object
    memory.adapters.producer().publish([
        OutboundMessage(topics.TRAFFIC_FRAUD, b"m1", poison.encode()),
        OutboundMessage(topics.CONTEXT_FLOW_ANCHOR, b"m1", not_an_object.encode())])
    end = memory.adapters.consumer()("probe").end_offsets([topics.TRAFFIC_FRAUD, topics.CONTEXT_FLOW_ANCHOR])
    patched = stream.model_copy(update={"end_offsets": {**stream.end_offsets,
                                                       **{f"{t}:{p}": o for (t, p), o in end.items()}}})
    done = memory.rtdl().decide(ready, patched)
    assert done.stats["dead_letters"] == 2 and done.stats["decisions"] == 100


def test_a_republished_copy_in_the_same_batch_is_decided_once(memory: Platform) -> None:
    config = RunConfig(env="memory", seed=6, events=400)
    ready = memory.sr().ready(config, "pr-copies")
    stream = memory.wsp().stream(ready)
    consumer = memory.adapters.consumer()("copy-reader")
    consumer.assign({("fp.bus.traffic.fraud.v1", p): 0 for p in range(3)})
    first = next(r for r in consumer.poll_batch(1_000, 0.1) if b"pr-copies" in r.value)
    memory.adapters.producer().publish([OutboundMessage("fp.bus.traffic.fraud.v1", first.key or b"", first.value)])
    end = memory.adapters.consumer()("probe").end_offsets(["fp.bus.traffic.fraud.v1"])
    patched = stream.model_copy(update={"end_offsets": {**stream.end_offsets,
                                                       **{f"{t}:{p}": o for (t, p), o in end.items()}}})
    done = memory.rtdl().decide(ready, patched)
    assert done.stats["republished_copies"] == 1 and done.stats["decisions"] == 100
    assert memory.adapters.action_log().outcome_counts("pr-copies")["duplicate_outcomes"] == 0


def test_fp_ig_splits_ndjson_on_newline_only_and_streams_in_batches() -> None:
    import io

    from fp_apps.ig import batches

    raw = envelope().replace(b", ", b",\r ") + b"\n\n   \n" + envelope() + b"\n"
    got = list(batches(io.BytesIO(raw), 2))
    assert got == [[envelope().replace(b", ", b",\r "), b"   "], [envelope()]]  # a bare \r is JSON whitespace
    assert screen(got[0][0], PINS, FRAUD_CLASS_MAP).__class__.__name__ == "Candidate"
