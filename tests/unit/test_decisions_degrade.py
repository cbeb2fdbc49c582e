"""Laws 5-6: explicit degrade with reasons, pinned-bundle decisions, idempotent action intents."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fp_core.cases import case_trigger_for
from fp_core.context import ContextItem, ContextKind
from fp_core.decisions import TransactionView, audit_record, decide, intent_for
from fp_core.degrade import DegradeMode, DegradeReason, assess_join_readiness
from fp_core.offsets import OriginOffset
from fp_core.pins import ContextPins
from fp_core.scoring import DEFAULT_BUNDLE, DEFAULT_POLICY, ActionType, choose_action

PINS = ContextPins(platform_run_id="pr-1", scenario_run_id="sr-1", manifest_fingerprint="a" * 64, seed=1,
                   schema_version="fp.event.v1", policy_id="p1", bundle_id="b:1")
ORIGIN = OriginOffset(topic="t", partition=0, offset=1)


def item(kind: ContextKind, ts: int, **payload: object) -> ContextItem:
    return ContextItem(kind=kind, key="k", ts_ms=ts, payload=dict(payload), origin=ORIGIN)


FA = item(ContextKind.FLOW_ANCHOR, 990, flow_id="f1", arrival_id="a1", merchant_id="m1")
AR = item(ContextKind.ARRIVAL, 980, channel="web")
EN = item(ContextKind.ENTITIES, 985, card_id="k1", device_first_seen=True, card_country="FR")
TXN = TransactionView(event_id="e" * 32, ts_ms=1000, txn_id="t1", flow_id="f1", merchant_id="m1",
                      amount_minor=250_000, merchant_country="GB", origin=ORIGIN)


def test_ready_frame_when_context_present_and_fresh() -> None:
    frame = assess_join_readiness(1000, FA, AR, EN, 600_000, 2_000)
    assert frame.ready and frame.posture.mode is DegradeMode.NONE
    assert len(frame.origins()) == 3


def test_each_missing_piece_is_a_named_reason() -> None:
    assert assess_join_readiness(1000, None, AR, EN, 600_000, 2_000).posture.reasons == (
        DegradeReason.FLOW_ANCHOR_MISSING,)
    assert set(assess_join_readiness(1000, FA, None, None, 600_000, 2_000).posture.reasons) == {
        DegradeReason.ARRIVAL_MISSING, DegradeReason.ENTITIES_MISSING}
    stale = assess_join_readiness(1_000_000, FA, AR, EN, 1_000, 2_000)
    assert stale.posture.reasons == (DegradeReason.CONTEXT_STALE,) and stale.entities is None


def test_context_beyond_readiness_bound_counts_as_missing() -> None:
    late = item(ContextKind.FLOW_ANCHOR, 1000 + 5_000, flow_id="f1", arrival_id="a1", merchant_id="m1")
    frame = assess_join_readiness(1000, late, AR, EN, 600_000, 2_000)
    assert frame.posture.reasons == (DegradeReason.FLOW_ANCHOR_MISSING,)
    within = item(ContextKind.FLOW_ANCHOR, 1000 + 1_500, flow_id="f1", arrival_id="a1", merchant_id="m1")
    assert assess_join_readiness(1000, within, AR, EN, 600_000, 2_000).ready


def test_decision_carries_full_provenance_and_is_deterministic() -> None:
    frame = assess_join_readiness(1000, FA, AR, EN, 600_000, 2_000)
    d = decide(TXN, frame, 4, PINS, DEFAULT_BUNDLE, DEFAULT_POLICY)
    assert d == decide(TXN, frame, 4, PINS, DEFAULT_BUNDLE, DEFAULT_POLICY)
    assert d.pins == PINS and d.policy_id == DEFAULT_POLICY.policy_id
    assert d.bundle.parameters_digest == DEFAULT_BUNDLE.parameters_digest()
    assert d.origin_offsets[0] == TXN.origin and len(d.origin_offsets) == 4
    assert d.action is ActionType.DECLINE and d.card_id == "k1"
    trigger = case_trigger_for(d, DEFAULT_POLICY.case_trigger_actions)
    assert trigger is not None and trigger.subject.subject_id == "k1"


def test_degraded_decision_is_capped_and_records_posture() -> None:
    frame = assess_join_readiness(1000, None, None, None, 600_000, 2_000)
    d = decide(TXN, frame, None, PINS, DEFAULT_BUNDLE, DEFAULT_POLICY)
    assert d.degrade.mode is DegradeMode.TXN_ONLY
    assert d.degrade.reasons == (DegradeReason.FLOW_ANCHOR_MISSING,)
    assert d.action in (ActionType.APPROVE, ActionType.STEP_UP)
    assert audit_record(d).decision.degrade == d.degrade


@given(st.floats(0, 1), st.booleans())
def test_degraded_action_never_exceeds_cap(risk: float, degraded: bool) -> None:
    action = choose_action(risk, DEFAULT_BUNDLE, degraded, DEFAULT_POLICY)
    if degraded:
        assert action is not ActionType.DECLINE


@given(st.integers(0, 5))
def test_action_idempotency_key_stable_under_replay(replays: int) -> None:
    frame = assess_join_readiness(1000, FA, AR, EN, 600_000, 2_000)
    keys = {intent_for(decide(TXN, frame, 4, PINS, DEFAULT_BUNDLE, DEFAULT_POLICY)).idempotency_key
            for _ in range(replays + 1)}
    assert len(keys) == 1
