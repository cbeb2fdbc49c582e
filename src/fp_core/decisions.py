"""Decisions, action intents/outcomes and audit records: DF, AL and DLA in the core's terms."""

from __future__ import annotations

from functools import cached_property

import msgspec

from fp_core.degrade import DegradePosture, JoinFrame
from fp_core.identity import derive_id
from fp_core.model import FrozenModel
from fp_core.offsets import OriginOffset
from fp_core.pins import ContextPins
from fp_core.scoring import (
    ActionType,
    DecisionPolicy,
    ScoringBundle,
    choose_action,
    extract_features,
    score,
)


class BundleRef(FrozenModel):
    bundle_id: str
    version: str
    parameters_digest: str


class DecisionRecord(FrozenModel):
    """One decision with full provenance: pins, bundle/policy, degrade posture, origin offsets used."""

    decision_id: str
    pins: ContextPins
    event_id: str
    txn_id: str
    flow_id: str
    merchant_id: str
    event_ts_ms: int
    bundle: BundleRef
    policy_id: str
    degrade: DegradePosture
    features: dict[str, float]
    score: float
    action: ActionType
    card_id: str | None
    origin_offsets: tuple[OriginOffset, ...]


class ActionIntent(FrozenModel):
    """What AL is asked to do; ``idempotency_key`` is derived from the decision, so replays and
    duplicates map to the same key and never act twice."""

    idempotency_key: str
    decision_id: str
    platform_run_id: str
    action: ActionType


class ActionOutcome(FrozenModel):
    """What AL did for one idempotency key (recorded once, however often the intent is replayed)."""

    outcome_id: str
    idempotency_key: str
    platform_run_id: str
    action: ActionType
    status: str


class AuditRecord(FrozenModel):
    """DLA's append-only record: the decision and the intent it produced."""

    audit_id: str
    platform_run_id: str
    decision: DecisionRecord
    intent: ActionIntent

    @cached_property
    def document(self) -> str:
        """The record's JSON, serialised once (DLA stores it, RTDL publishes it on the audit topic)."""
        return self.model_dump_json()


class TransactionView(msgspec.Struct, frozen=True, gc=False):
    """The traffic event as DF sees it."""

    event_id: str
    ts_ms: int
    txn_id: str
    flow_id: str
    merchant_id: str
    amount_minor: int
    merchant_country: str
    origin: OriginOffset


def intent_for(decision: DecisionRecord) -> ActionIntent:
    key = derive_id("action", decision.decision_id, decision.action.value)
    return ActionIntent(idempotency_key=key, decision_id=decision.decision_id,
                        platform_run_id=decision.pins.platform_run_id, action=decision.action)


def outcome_for(intent: ActionIntent) -> ActionOutcome:
    return ActionOutcome(outcome_id=derive_id("outcome", intent.idempotency_key),
                         idempotency_key=intent.idempotency_key, platform_run_id=intent.platform_run_id,
                         action=intent.action, status="EXECUTED")


_BUNDLE_REFS: dict[int, tuple[ScoringBundle, BundleRef]] = {}


def bundle_ref(bundle: ScoringBundle) -> BundleRef:
    """The bundle's reference with its parameters digest, computed once per bundle object (a run pins one
    bundle; the cache holds the object itself, so an id is never mistaken for another bundle's)."""
    hit = _BUNDLE_REFS.get(id(bundle))
    if hit is not None and hit[0] is bundle:
        return hit[1]
    if len(_BUNDLE_REFS) >= 64:
        _BUNDLE_REFS.clear()
    ref = BundleRef(bundle_id=bundle.bundle_id, version=bundle.version, parameters_digest=bundle.parameters_digest())
    _BUNDLE_REFS[id(bundle)] = (bundle, ref)
    return ref


def decide(txn: TransactionView, frame: JoinFrame, card_velocity: int | None, pins: ContextPins,
           bundle: ScoringBundle, policy: DecisionPolicy) -> DecisionRecord:
    """Score the transaction with the pinned bundle and record everything the decision used."""
    features = extract_features(txn.amount_minor, txn.merchant_country, frame, card_velocity)
    risk = score(features, bundle)
    action = choose_action(risk, bundle, not frame.ready, policy)
    card_id = str(frame.entities.payload["card_id"]) if frame.entities is not None else None
    return DecisionRecord(
        decision_id=derive_id("decision", pins.platform_run_id, txn.event_id),
        pins=pins, event_id=txn.event_id, txn_id=txn.txn_id, flow_id=txn.flow_id,
        merchant_id=txn.merchant_id, event_ts_ms=txn.ts_ms,
        bundle=bundle_ref(bundle),
        policy_id=policy.policy_id, degrade=frame.posture, features=features, score=risk,
        action=action, card_id=card_id, origin_offsets=(txn.origin, *frame.origins()),
    )


def audit_record(decision: DecisionRecord) -> AuditRecord:
    return AuditRecord(audit_id=decision.decision_id, platform_run_id=decision.pins.platform_run_id,
                       decision=decision, intent=intent_for(decision))
