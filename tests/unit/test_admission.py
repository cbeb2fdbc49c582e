"""Law 2-3: event-class resolution, screening reasons, and the admission law over interleavings."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fp_core.admission import Candidate, Claim, Rejection, Sighting, first_sightings, judge, screen
from fp_core.event_class import FRAUD_CLASS_MAP, resolve_event_class
from fp_core.identity import DedupeKey
from fp_core.pins import ContextPins
from fp_core.receipts import AdmissionOutcome, QuarantineReason

PINS = ContextPins(platform_run_id="pr-1", scenario_run_id="sr-1", manifest_fingerprint="a" * 64, seed=1,
                   schema_version="fp.event.v1", policy_id="p1", bundle_id="b:1")


def envelope(event_id: str = "0" * 32, amount: int = 500, event_type: str = "transaction",
             pins: ContextPins = PINS, **over: Any) -> bytes:
    body: dict[str, Any] = {
        "event_id": event_id, "event_type": event_type, "ts_utc": "2026-01-01T00:00:00.000+00:00",
        "pins": pins.model_dump(), "producer": "wsp", "schema_version": "fp.event.v1",
        "payload": {"txn_id": "t1", "flow_id": "f1", "merchant_id": "m1", "amount_minor": amount,
                    "currency": "GBP", "merchant_country": "GB"}}
    body.update(over)
    return json.dumps(body).encode()


def test_known_types_resolve_and_unknown_do_not() -> None:
    assert resolve_event_class("transaction", FRAUD_CLASS_MAP) is not None
    assert resolve_event_class("loyalty_points", FRAUD_CLASS_MAP) is None


@pytest.mark.parametrize(("raw", "reason", "names"), [
    (b"{not json", QuarantineReason.INVALID_ENVELOPE, ""),
    (envelope(event_id="short"), QuarantineReason.INVALID_ENVELOPE, "event_id"),
    (envelope(event_type="loyalty_points"), QuarantineReason.UNKNOWN_EVENT_TYPE, "event_type"),
    (envelope(amount=-5), QuarantineReason.INVALID_PAYLOAD, "payload.amount_minor"),
    (envelope(pins=PINS.model_copy(update={"platform_run_id": "pr-other"})), QuarantineReason.FOREIGN_RUN,
     "pins.platform_run_id"),
    (envelope(pins=PINS.model_copy(update={"bundle_id": "b:2"})), QuarantineReason.PIN_MISMATCH, "pins.bundle_id"),
])
def test_screen_rejects_with_reason_naming_the_field(raw: bytes, reason: QuarantineReason, names: str) -> None:
    out = screen(raw, PINS, FRAUD_CLASS_MAP)
    assert isinstance(out, Rejection)
    assert out.reason is reason
    assert names in out.detail


def test_screen_accepts_valid_event_with_exact_dedupe_tuple() -> None:
    out = screen(envelope(), PINS, FRAUD_CLASS_MAP)
    assert isinstance(out, Candidate)
    assert out.key == DedupeKey("pr-1", "traffic_fraud", "0" * 32)
    assert out.partition_key == "m1"


class ReferenceIndex:
    """The admission law stated as plainly as possible: first hash per tuple wins forever."""

    def __init__(self) -> None:
        self.first: dict[DedupeKey, str] = {}

    def admit(self, c: Candidate) -> AdmissionOutcome:
        if c.key not in self.first:
            self.first[c.key] = c.payload_hash
            return AdmissionOutcome.ADMIT
        return AdmissionOutcome.DUPLICATE if self.first[c.key] == c.payload_hash else AdmissionOutcome.ANOMALY


class BatchIndex:
    def __init__(self) -> None:
        self.first: dict[DedupeKey, str] = {}

    def claim(self, firsts: dict[DedupeKey, Sighting]) -> dict[DedupeKey, Claim]:
        out = {}
        for k, (h, _receipt) in firsts.items():
            claimed = k not in self.first
            self.first.setdefault(k, h)
            out[k] = Claim(self.first[k], claimed, not claimed)
        return out


events = st.lists(st.tuples(st.integers(0, 5), st.integers(1, 3)), min_size=1, max_size=60)


@settings(max_examples=200)
@given(events, st.integers(1, 12))
def test_batched_admission_equals_the_sequential_law(stream: list[tuple[int, int]], batch: int) -> None:
    cands = []
    for ident, amount in stream:
        c = screen(envelope(event_id=f"{ident:032x}", amount=amount), PINS, FRAUD_CLASS_MAP)
        assert isinstance(c, Candidate)
        cands.append(c)
    ref = ReferenceIndex()
    expected = [ref.admit(c) for c in cands]
    index = BatchIndex()
    got: list[AdmissionOutcome] = []
    for i in range(0, len(cands), batch):
        chunk = cands[i:i + batch]
        sightings = first_sightings(chunk, [f"r{i + j}" for j in range(len(chunk))])
        got.extend(v.outcome for v in judge(chunk, index.claim(sightings)))
    assert got == expected
    assert index.first == ref.first  # the first admission is never overwritten


def test_anomaly_is_quarantined_and_duplicates_republish_only_when_unpublished() -> None:
    a = screen(envelope(amount=1), PINS, FRAUD_CLASS_MAP)
    b = screen(envelope(amount=2), PINS, FRAUD_CLASS_MAP)
    assert isinstance(a, Candidate) and isinstance(b, Candidate)
    verdicts = judge([a, a, b], {a.key: Claim(a.payload_hash, False, False)})
    assert [v.outcome for v in verdicts] == [AdmissionOutcome.DUPLICATE, AdmissionOutcome.DUPLICATE,
                                             AdmissionOutcome.ANOMALY]
    assert [v.publish for v in verdicts] == [True, False, False]
    assert verdicts[2].reason is QuarantineReason.PAYLOAD_HASH_MISMATCH
    published = judge([a], {a.key: Claim(a.payload_hash, False, True)})
    assert published[0].publish is False
