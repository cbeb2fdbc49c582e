"""The synthetic fraud world (the oracle's engine): seeded, time-sorted, generated lazily.

Merchants, customers, cards and devices; per flow an arrival, its entities, a flow anchor and one
transaction. Fraud is planted with known truth (riskier entities, compromised cards reused quickly);
truth reaches the label store later as chargeback assertions. Same seed, same world, byte for byte.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
import orjson

from fp_core.canonical import short_digest

WORLD_VERSION = "fp.world.fraud.v1"
EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: event time is synthetic, never the wall clock
EVENTS_PER_FLOW = 4
COUNTRIES = ("GB", "GB", "GB", "FR", "DE", "ES", "IE", "US")
STREAM_RANK = {"arrival_event": 0, "arrival_entities": 1, "flow_anchor": 2, "transaction": 3}
DAY_MS = 86_400_000


class SealedPayload(Mapping[str, Any]):
    """A payload as the sealed stream_view holds it: its JSON bytes, decoded only if something reads it.

    WSP splices these bytes into the envelope as they are (a drill that reshapes a payload gives its row a
    new ``dict``), so a row streamed unchanged is not decoded and re-encoded. Immutable: the bytes and the
    mapping cannot disagree."""

    __slots__ = ("_decoded", "_json")

    def __init__(self, json: bytes) -> None:
        self._json = json
        self._decoded: dict[str, Any] | None = None

    @property
    def json(self) -> bytes:
        """The sealed bytes (read-only)."""
        return self._json

    def _mapping(self) -> dict[str, Any]:
        if self._decoded is None:
            value = orjson.loads(self._json)
            if not isinstance(value, dict):
                raise ValueError(f"payload: a JSON object expected, not {type(value).__name__}")
            self._decoded = value
        return self._decoded

    def __getitem__(self, key: str) -> Any:
        return self._mapping()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._mapping())

    def __len__(self) -> int:
        return len(self._mapping())

    def __repr__(self) -> str:
        return f"SealedPayload({self._json!r})"


class StreamRow(msgspec.Struct, frozen=True, gc=False):
    """One row of the time-sorted ``stream_view``: a generated payload is a ``dict``, a read one a
    ``SealedPayload``. Plain data (WSP reads one per event); ``msgspec.structs.replace`` gives a changed copy."""

    event_type: str
    natural_key: str
    ts_ms: int
    payload: Mapping[str, Any]

    def sort_key(self) -> tuple[int, int, str]:
        return (self.ts_ms, STREAM_RANK.get(self.event_type, 9), self.natural_key)

    def to_json(self) -> dict[str, Any]:
        return {"event_type": self.event_type, "natural_key": self.natural_key, "ts_ms": self.ts_ms,
                "payload": dict(self.payload)}


@dataclass(frozen=True, slots=True)
class TruthLabel:
    txn_natural_key: str
    label: str
    effective_ts_ms: int
    recorded_ts_ms: int

    def to_json(self) -> dict[str, Any]:
        return {"txn_natural_key": self.txn_natural_key, "label": self.label,
                "effective_ts_ms": self.effective_ts_ms, "recorded_ts_ms": self.recorded_ts_ms}


def scenario_run_id_for(seed: int, events: int) -> str:
    """Deterministic scenario identity from its equivalence key (world version, seed, size)."""
    return "sr-" + short_digest([WORLD_VERSION, seed, events], 16)


def _country(ref: str) -> str:
    return COUNTRIES[int(short_digest(["country", ref], 8), 16) % len(COUNTRIES)]


def _flow_rows(i: int, t: int, rng: random.Random, n_flows: int) -> tuple[list[StreamRow], TruthLabel | None]:
    n_merchants = 20 + n_flows // 2000
    fraud = rng.random() < 0.03
    merchant = f"m{rng.randrange(n_merchants):05d}"
    customer = f"c{rng.randrange(10 + n_flows // 3):08d}"
    card = f"k{rng.randrange(5 + n_flows // 800):06d}x" if fraud else f"k{rng.randrange(50 + n_flows // 4):07d}"
    device = f"d{rng.randrange(50 + n_flows // 3):08d}"
    arrival_id, flow_id, txn_id = f"a{i:09d}", f"f{i:09d}", f"t{i:09d}"
    merchant_country = _country(merchant)
    card_country = merchant_country if rng.random() < (0.35 if fraud else 0.95) else _country(card + "x")
    channel = "web" if rng.random() < (0.8 if fraud else 0.4) else rng.choice(("app", "pos"))
    amount = int(rng.lognormvariate(9.2 if fraud else 7.8, 0.9)) + 100
    rows = [
        StreamRow("arrival_event", arrival_id, t, {
            "arrival_id": arrival_id, "merchant_id": merchant, "customer_id": customer, "channel": channel,
            "country": merchant_country}),
        StreamRow("arrival_entities", arrival_id, t + 3, {
            "arrival_id": arrival_id, "merchant_id": merchant, "card_id": card, "device_id": device,
            "ip_prefix": f"ip{rng.randrange(4096):04d}", "card_country": card_country,
            "device_first_seen": rng.random() < (0.85 if fraud else 0.08)}),
        StreamRow("flow_anchor", flow_id, t + 6, {
            "flow_id": flow_id, "arrival_id": arrival_id, "merchant_id": merchant}),
    ]
    txn_ts = t + 100 + rng.randrange(1400)
    rows.append(StreamRow("transaction", txn_id, txn_ts, {
        "txn_id": txn_id, "flow_id": flow_id, "merchant_id": merchant, "amount_minor": min(amount, 99_999_999),
        "currency": "GBP", "merchant_country": merchant_country}))
    label = None
    if fraud:
        label = TruthLabel(txn_id, "FRAUD", txn_ts, txn_ts + 20 * DAY_MS + rng.randrange(20 * DAY_MS))
    return rows, label


def generate_world(seed: int, events: int) -> Iterator[StreamRow | TruthLabel]:
    """Yield stream rows in (ts, stream rank, key) order, interleaved with truth labels.

    Memory is bounded by the flows still open (a transaction lands at most 1.5 s after its arrival),
    not by ``events``.
    """
    rng = random.Random(seed)
    n_flows = max(1, events // EVENTS_PER_FLOW)
    heap: list[tuple[tuple[int, int, str], int, StreamRow]] = []
    seq = 0
    t = EPOCH_MS
    for i in range(n_flows):
        t += 1 + int(rng.expovariate(1 / 20))
        rows, label = _flow_rows(i, t, rng, n_flows)
        for row in rows:
            heapq.heappush(heap, (row.sort_key(), seq, row))
            seq += 1
        if label is not None:
            yield label
        while heap and heap[0][0][0] < t:
            yield heapq.heappop(heap)[2]
    while heap:
        yield heapq.heappop(heap)[2]
