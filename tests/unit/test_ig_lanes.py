"""IG over lanes gives what one gate gives (D64): the same receipts, the same quarantine records, and
every partition holding the same records in the same order, for a mix of copies, anomalies that change
the partition key, and hostile lines; a lane whose process is lost is admitted by the caller's gate; a
transient failure in one lane fails the submission, and its re-submission answers as one gate would."""

from __future__ import annotations

import itertools
import json
import random
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest

from fp_adapters.containers import Platform
from fp_adapters.memory.substrate import MemorySubstrate
from fp_core.errors import LaneLost, TransientError
from fp_core.event_class import FRAUD_CLASS_MAP
from fp_core.lanes import LaneRouter
from fp_core.ports import Log
from fp_core.receipts import Outcome, Receipt, ReceiptRow, Told
from fp_core.services.ig import IngestionGate, Share, receipt_ids_of
from fp_core.services.ig_lanes import Lane, LanedGate
from fp_core.topics import TOPIC_MAP, partition_of
from tests.unit.conftest import memory_container
from tests.unit.test_admission import PINS, envelope
from tests.unit.test_hostile_input import HOSTILE

TYPES = ("transaction", "arrival_event", "arrival_entities", "flow_anchor")


def event(event_type: str, n: int, merchant: str, amount: int = 500) -> bytes:
    payload = {
        "transaction": {"txn_id": f"t{n}", "flow_id": f"f{n}", "merchant_id": merchant, "amount_minor": amount,
                        "currency": "GBP", "merchant_country": "GB"},
        "arrival_event": {"arrival_id": f"a{n}", "merchant_id": merchant, "customer_id": f"c{n}", "channel": "web",
                          "country": "GB"},
        "arrival_entities": {"arrival_id": f"a{n}", "merchant_id": merchant, "card_id": f"k{n}",
                             "device_id": f"d{n}", "ip_prefix": "10-0", "card_country": "GB",
                             "device_first_seen": amount == 500},
        "flow_anchor": {"flow_id": f"f{n}", "arrival_id": f"a{n}", "merchant_id": merchant}}[event_type]
    return envelope(event_id=f"{n:032x}", event_type=event_type, payload=payload)


def mix(seed: int) -> list[list[bytes]]:
    """Five submissions: first sightings over many merchants, exact copies (in and across submissions),
    anomalies whose copy moves to another merchant (so another partition and perhaps another lane), and
    hostile lines."""
    rng = random.Random(seed)
    events = [(rng.choice(TYPES), n, f"m{rng.randrange(40)}") for n in range(300)]
    stream: list[bytes] = []
    for i, (t, n, m) in enumerate(events):
        stream.append(event(t, n, m))
        if i % 7 == 0:  # an exact copy, soon
            stream.append(event(t, n, m))
        if i % 11 == 0:  # the same event id with another payload and merchant
            stream.append(event(t, n, f"m{rng.randrange(40, 80)}", amount=777))
        if i % 37 == 0:
            stream.append(rng.choice([raw for raw, _ in HOSTILE.values()]))
    # copies of early events in later submissions
    stream += [event(t, n, m) for t, n, m in events[:20]]
    return [stream[i:i + 97] for i in range(0, len(stream), 97)]


class NoLog:
    def info(self, event: str, **kw: object) -> None: ...
    def warning(self, event: str, **kw: object) -> None: ...
    def error(self, event: str, **kw: object) -> None: ...


class GateLane:
    """The ``Lane`` port over a gate on the same in-memory state, as a lane's process would run it."""

    def __init__(self, gate: IngestionGate) -> None:
        self.gate = gate
        self.pending: tuple[str, Share, Sequence[bytes]] | None = None
        self.lose_at: int | None = None  # the share whose answer never comes (the process died)
        self.fail_at: int | None = None  # the share whose gate raises a transient failure
        self.shares = 0

    def send(self, submission_id: str, share: Share, raws: Sequence[bytes]) -> None:
        self.pending = (submission_id, share, raws)

    def receive(self) -> list[Outcome]:
        assert self.pending is not None
        submission_id, share, raws = self.pending
        self.pending = None
        self.shares += 1
        if self.shares == self.lose_at:
            raise LaneLost("killed")
        if self.shares == self.fail_at:
            raise TransientError("postgres restarting")
        return [Outcome(r.outcome, r.publish_state) for r in self.gate.admit(submission_id, raws, share)]


def laned(container: Platform, lanes: int) -> tuple[LanedGate, list[GateLane]]:
    remotes = [GateLane(container.gate(PINS)) for _ in range(lanes - 1)]
    log: Log = NoLog()
    return LanedGate(container.gate(PINS), list[Lane | None](remotes), LaneRouter(FRAUD_CLASS_MAP, lanes), log), remotes


def state(container: Platform, submissions: list[list[bytes]]) -> tuple[dict[str, Receipt], list[object], object]:
    receipts: dict[str, Receipt] = {}
    for i, batch in enumerate(submissions):
        ids = [receipt_ids_of(PINS.platform_run_id, f"s{i}")(pos) for pos in range(len(batch))]
        receipts |= container.adapters.receipts().stored(PINS.platform_run_id, ids)
    substrate: MemorySubstrate = container.adapters.substrate()
    bus = sorted((tp, records) for tp, records in substrate.log.items() if records)
    objects = container.adapters.objects()
    for r in substrate.quarantine.values():  # each record points at its own line (a lane has its own object)
        assert json.loads(objects.get(r.object_key).splitlines()[r.line])["receipt_id"] == r.receipt_id
    quarantine = sorted((r.receipt_id, r.reason, r.event_id, r.payload_hash) for r in substrate.quarantine.values())
    return receipts, bus, quarantine


@contextmanager
def two_platforms() -> Iterator[tuple[Platform, Platform]]:
    """One gate's platform and the laned gate's, each on in-memory state of its own."""
    one, many = memory_container(), memory_container()
    for c in (one, many):
        c.init_resources()
    try:
        yield one, many
    finally:
        for c in (one, many):
            c.shutdown_resources()


def answers(told: Sequence[Told]) -> list[tuple[str, str | None]]:
    return [(t.outcome.value, t.publish_state.value if t.publish_state else None) for t in told]


def test_partition_of_is_the_buses_keyed_partitioner() -> None:
    for key in (b"m1", b"merchant-0042", "é".encode()):
        assert partition_of(key, 3) == zlib.crc32(key) % 3


def test_every_partition_has_one_lane_and_every_lane_a_share_of_each_topic() -> None:
    router = LaneRouter(FRAUD_CLASS_MAP, 2)
    topics = {cls.topic for cls in FRAUD_CLASS_MAP.values()}
    counts = {s.name: s.partitions for s in TOPIC_MAP}
    lanes = {(t, p): router.lane_of_slot(t, p) for t in topics for p in range(counts[t])}
    assert set(lanes.values()) == {0, 1}
    assert sum(1 for lane in lanes.values() if lane == 0) == len(lanes) // 2
    with pytest.raises(ValueError, match="lanes"):
        LaneRouter(FRAUD_CLASS_MAP, 0)


def test_routing_follows_the_partition_and_keeps_a_tuples_copies_together() -> None:
    router = LaneRouter(FRAUD_CLASS_MAP, 3)
    for batch in mix(5):
        lanes = router.route(batch)
        first: dict[tuple[str, str], int] = {}
        for raw, lane in zip(batch, lanes, strict=True):
            try:
                doc = json.loads(raw)
                cls = FRAUD_CLASS_MAP[doc["event_type"]]
                merchant = doc["payload"]["merchant_id"]
                assert isinstance(merchant, str) and isinstance(doc["event_id"], str)
            except (ValueError, KeyError, TypeError, AssertionError):
                assert lane == 0
                continue
            own = router.lane_of_slot(cls.topic, partition_of(merchant.encode(), 3))
            assert lane == first.setdefault((cls.name, doc["event_id"]), own)
    assert LaneRouter(FRAUD_CLASS_MAP, 1).route(mix(5)[0]) == [0] * len(mix(5)[0])


@pytest.mark.parametrize("lanes", [2, 3])
def test_lanes_give_the_receipts_quarantine_and_partition_order_of_one_gate(lanes: int) -> None:
    submissions = mix(lanes)
    with two_platforms() as (one, many):
        single = one.gate(PINS)
        gate, _remotes = laned(many, lanes)
        for i, batch in enumerate(submissions):
            assert answers(gate.submit(f"s{i}", batch)) == answers(single.submit(f"s{i}", batch))
        receipts_one, bus_one, quarantine_one = state(one, submissions)
        assert (receipts_one, bus_one, quarantine_one) == state(many, submissions)
        outcomes = {r.outcome.value for r in receipts_one.values()}
        assert outcomes == {"ADMIT", "DUPLICATE", "ANOMALY", "QUARANTINE"}


def test_one_lane_is_the_gate_alone_answering_with_rows_that_are_its_receipts() -> None:
    """WSP's ingress for one lane (D66): the gate's receipt rows, each the receipt the gate's ``submit`` gives,
    and the same stores, bus and quarantine objects (the submission's own, no lane suffix)."""
    submissions = mix(1)
    with two_platforms() as (one, many):
        single = one.gate(PINS)
        gate, remotes = laned(many, 1)
        assert remotes == []
        for i, batch in enumerate(submissions):
            rows = gate.submit(f"s{i}", batch)
            assert all(isinstance(r, ReceiptRow) for r in rows)
            assert [r.receipt() for r in rows if isinstance(r, ReceiptRow)] == single.submit(f"s{i}", batch)
        assert state(one, submissions) == state(many, submissions)
        keys = [sorted(r.object_key for r in c.adapters.substrate().quarantine.values()) for c in (one, many)]
        assert keys[0] == keys[1] and keys[0]


def test_a_lost_lane_is_admitted_here_and_a_transient_failure_is_retried_to_the_same_answers() -> None:
    submissions = mix(9)
    with two_platforms() as (one, many):
        single = one.gate(PINS)
        expected = [answers(single.submit(f"s{i}", batch)) for i, batch in enumerate(submissions)]
        gate, [remote] = laned(many, 2)
        remote.fail_at, remote.lose_at = 2, 4
        got = []
        for i, batch in enumerate(submissions):
            for _attempt in itertools.count():
                try:
                    got.append(answers(gate.submit(f"s{i}", batch)))
                    break
                except TransientError:
                    assert i == 1  # the second share failed; WSP submits it again
        assert got == expected
        assert gate.remotes == [None] and remote.shares == 4  # lost at its fourth share: the rest here
        assert state(one, submissions) == state(many, submissions)
