"""Explicit degrade (seed 7.4): join readiness yields a ready frame or a degrade posture with reasons.

Required context is the flow anchor, its arrival and the arrival's entities, each present and no older
than ``max_context_age_ms`` at the transaction's event time. Anything else degrades; nothing is guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fp_core.context import ContextItem
from fp_core.model import FrozenModel
from fp_core.offsets import OriginOffset


class DegradeReason(StrEnum):
    """Why a decision degraded (recorded in its audit record)."""

    FLOW_ANCHOR_MISSING = "FLOW_ANCHOR_MISSING"
    ARRIVAL_MISSING = "ARRIVAL_MISSING"
    ENTITIES_MISSING = "ENTITIES_MISSING"
    CONTEXT_STALE = "CONTEXT_STALE"


class DegradeMode(StrEnum):
    """NONE, or TXN_ONLY when the decision had to do without some context (explicit degrade)."""

    NONE = "NONE"
    TXN_ONLY = "TXN_ONLY"


class DegradePosture(FrozenModel):
    mode: DegradeMode
    reasons: tuple[DegradeReason, ...] = ()


READY = DegradePosture(mode=DegradeMode.NONE)


@dataclass(frozen=True, slots=True)
class JoinFrame:
    """Context joined for one transaction; items are None where the posture says they are missing."""

    flow_anchor: ContextItem | None
    arrival: ContextItem | None
    entities: ContextItem | None
    posture: DegradePosture

    @property
    def ready(self) -> bool:
        return self.posture.mode is DegradeMode.NONE

    def origins(self) -> list[OriginOffset]:
        return [i.origin for i in (self.flow_anchor, self.arrival, self.entities) if i is not None]


def _within_bound(item: ContextItem | None, txn_ts_ms: int, bound_ms: int) -> ContextItem | None:
    return item if item is not None and item.ts_ms <= txn_ts_ms + bound_ms else None


def _age_reasons(item: ContextItem, txn_ts_ms: int, max_age_ms: int) -> list[DegradeReason]:
    return [DegradeReason.CONTEXT_STALE] if txn_ts_ms - item.ts_ms > max_age_ms else []


def assess_join_readiness(
    txn_ts_ms: int,
    flow_anchor: ContextItem | None,
    arrival: ContextItem | None,
    entities: ContextItem | None,
    max_context_age_ms: int,
    readiness_bound_ms: int,
) -> JoinFrame:
    """Ready only when all three context items are present and fresh; otherwise TXN_ONLY with reasons.

    Readiness is bounded in event time: context stamped more than ``readiness_bound_ms`` after the
    transaction counts as missing even if the join plane already holds it, so the answer never
    depends on how fast a partition happened to be read.
    """
    flow_anchor = _within_bound(flow_anchor, txn_ts_ms, readiness_bound_ms)
    arrival = _within_bound(arrival, txn_ts_ms, readiness_bound_ms)
    entities = _within_bound(entities, txn_ts_ms, readiness_bound_ms)
    reasons: list[DegradeReason] = []
    if flow_anchor is None:
        reasons.append(DegradeReason.FLOW_ANCHOR_MISSING)
        arrival = entities = None
    else:
        if arrival is None:
            reasons.append(DegradeReason.ARRIVAL_MISSING)
        if entities is None:
            reasons.append(DegradeReason.ENTITIES_MISSING)
    usable: dict[str, ContextItem | None] = {}
    for name, item in (("flow_anchor", flow_anchor), ("arrival", arrival), ("entities", entities)):
        problems = _age_reasons(item, txn_ts_ms, max_context_age_ms) if item else []
        reasons.extend(problems)
        usable[name] = None if problems else item
    if not reasons:
        return JoinFrame(flow_anchor, arrival, entities, READY)
    posture = DegradePosture(mode=DegradeMode.TXN_ONLY, reasons=tuple(sorted(set(reasons))))
    return JoinFrame(usable["flow_anchor"], usable["arrival"], usable["entities"], posture)
