"""Incident drills (seed 12.4, 13.5): deterministic input shaping, expectations, and their verdicts.

Each drill owns a disjoint slice of flows, chosen by flow index, so drills never mask each other.
Shaping keeps the stream time-ordered: a late or repeated event is emitted at its own time.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from fp_core.model import FrozenModel
from fp_core.world import StreamRow, TruthLabel

STREAM_DRILLS: tuple[str, ...] = ("duplicates", "payload_mismatch", "missing_context", "late_context",
                                  "quarantine")
REPEAT_DELAY_MS = 1_000
LATE_BY_MS = 5_000


@dataclass(frozen=True, slots=True)
class Emission:
    """One thing WSP sends to IG; ``variant`` says how a drill shaped it (``normal`` if untouched)."""

    row: StreamRow
    variant: str = "normal"
    drill: str | None = None


@dataclass
class DrillLedger:
    """What the shaping injected: the expectations each drill's verdict is checked against."""

    drills: tuple[str, ...]
    every: int
    txn_keys: dict[str, list[str]] = field(default_factory=dict)
    injected: dict[str, dict[str, int]] = field(default_factory=dict)

    def note(self, drill: str, what: str, txn_key: str | None = None) -> None:
        counts = self.injected.setdefault(drill, {})
        counts[what] = counts.get(what, 0) + 1
        if txn_key is not None:
            self.txn_keys.setdefault(drill, []).append(txn_key)


def drill_spacing(n_flows: int) -> int:
    """One flow in ``every`` per drill: ~100 per drill at scale, a handful in small runs."""
    return max(len(STREAM_DRILLS) + 2, min(250, n_flows // 8))


def drill_of(flow_index: int, ledger: DrillLedger) -> str | None:
    slot = flow_index % ledger.every
    if 1 <= slot <= len(STREAM_DRILLS):
        name = STREAM_DRILLS[slot - 1]
        return name if name in ledger.drills else None
    return None


def _flow_index(row: StreamRow) -> int:
    return int(row.natural_key[1:])


def _quarantine_variant(n: int) -> str:
    return ("unknown_type", "invalid_payload", "foreign_run", "garbage")[n % 4]


def shape(rows: Iterable[StreamRow | TruthLabel], ledger: DrillLedger) -> Iterator[Emission]:
    """Apply the enabled stream drills to the world's rows; truth labels are not streamed."""
    delayed: list[tuple[int, int, Emission]] = []
    seq = 0
    held_anchors: dict[str, StreamRow] = {}

    def later(at_ms: int, em: Emission) -> None:
        nonlocal seq
        heapq.heappush(delayed, (at_ms, seq, em))
        seq += 1

    for row in rows:
        if isinstance(row, TruthLabel):
            continue
        while delayed and delayed[0][0] <= row.ts_ms:
            yield heapq.heappop(delayed)[2]
        drill = drill_of(_flow_index(row), ledger)
        if drill is None:
            yield Emission(row)
            continue
        if row.event_type == "flow_anchor" and drill in ("missing_context", "late_context"):
            if drill == "late_context":
                held_anchors[row.payload["flow_id"]] = row
            else:
                ledger.note(drill, "dropped_flow_anchors")
            continue
        yield Emission(row, drill=drill)
        if row.event_type != "transaction":
            continue
        key = row.natural_key
        if drill == "duplicates":
            ledger.note(drill, "duplicates_sent", key)
            later(row.ts_ms + REPEAT_DELAY_MS, Emission(row, "duplicate", drill))
        elif drill == "payload_mismatch":
            ledger.note(drill, "mismatches_sent", key)
            changed = dict(row.payload, amount_minor=int(row.payload["amount_minor"]) + 1)
            later(row.ts_ms + REPEAT_DELAY_MS, Emission(replace(row, payload=changed), "mismatch", drill))
        elif drill == "late_context":
            anchor = held_anchors.pop(row.payload["flow_id"])
            late_ts = row.ts_ms + LATE_BY_MS
            ledger.note(drill, "late_flow_anchors", key)
            later(late_ts, Emission(replace(anchor, ts_ms=late_ts), "late", drill))
        elif drill == "missing_context":
            ledger.txn_keys.setdefault(drill, []).append(key)
        elif drill == "quarantine":
            n = ledger.injected.get(drill, {}).get("sent", 0)
            variant = _quarantine_variant(n)
            ledger.note(drill, "sent")
            ledger.note(drill, variant)
            bad_key = "q" + key[1:]
            later(row.ts_ms + 1, Emission(replace(row, natural_key=bad_key, payload=_bad_payload(row, variant)),
                                          variant, drill))
    while delayed:
        yield heapq.heappop(delayed)[2]


def _bad_payload(row: StreamRow, variant: str) -> dict[str, Any]:
    if variant == "invalid_payload":
        return dict(row.payload, txn_id="q" + row.payload["txn_id"][1:], amount_minor=-5)
    return dict(row.payload, txn_id="q" + row.payload["txn_id"][1:])


class DrillRecord(FrozenModel):
    """``drills/<drill_id>.json``: what was expected, what was observed, and whether they agree."""

    drill_id: str
    description: str
    expected: dict[str, Any]
    observed: dict[str, Any]
    passed: bool


DESCRIPTIONS: dict[str, str] = {
    "duplicates": "same tuple, same payload -> DUPLICATE receipts, exactly one decision and one action",
    "payload_mismatch": "same tuple, different payload -> ANOMALY + quarantine; first admission unchanged",
    "missing_context": "flow anchor never sent -> explicit degrade FLOW_ANCHOR_MISSING recorded in audit",
    "late_context": "flow anchor sent after the readiness bound -> explicit degrade; late arrival surfaced",
    "quarantine": "unknown type, invalid payload, foreign run, garbage -> QUARANTINE with reason",
    "lag": "RTDL paused (backpressure) then caught up: lag grew, returned to zero, nothing lost",
}


def verdict(drill_id: str, expected: dict[str, Any], observed: dict[str, Any]) -> DrillRecord:
    """A drill passes iff every expected key is observed with the same value."""
    passed = all(observed.get(k) == v for k, v in expected.items())
    return DrillRecord(drill_id=drill_id, description=DESCRIPTIONS.get(drill_id, drill_id),
                       expected=expected, observed=observed, passed=passed)
