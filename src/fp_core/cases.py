"""Case management (CM): append-only case timelines and the case view derived from them."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from fp_core.canonical import short_digest
from fp_core.decisions import DecisionRecord
from fp_core.identity import derive_id
from fp_core.model import FrozenModel
from fp_core.scoring import SEVERITY, ActionType


class CaseSubjectKey(FrozenModel):
    platform_run_id: str
    subject_type: str
    subject_id: str


def case_id_for(subject: CaseSubjectKey) -> str:
    """``case_id = hash(CaseSubjectKey)``: one case per subject per run."""
    return short_digest(["case", subject.platform_run_id, subject.subject_type, subject.subject_id])


class CaseTrigger(FrozenModel):
    """What RTDL emits on ``fp.bus.case.triggers.v1`` for a decision that needs a case."""

    case_id: str
    subject: CaseSubjectKey
    decision_id: str
    action: ActionType
    score: float
    ts_ms: int


class CaseEventType(StrEnum):
    TRIGGER_ATTACHED = "TRIGGER_ATTACHED"
    LABEL_ATTACHED = "LABEL_ATTACHED"


class CaseTimelineEvent(FrozenModel):
    event_id: str
    case_id: str
    subject: CaseSubjectKey
    event_type: CaseEventType
    ts_ms: int
    ref: str
    action: ActionType | None = None


class CaseView(FrozenModel):
    """Derived, never stored as truth: the fold of a case's timeline."""

    case_id: str
    subject: CaseSubjectKey
    opened_ts_ms: int
    last_ts_ms: int
    triggers: int
    labels: int
    worst_action: ActionType | None


def case_trigger_for(decision: DecisionRecord, trigger_actions: Iterable[ActionType]) -> CaseTrigger | None:
    if decision.action not in tuple(trigger_actions):
        return None
    if decision.card_id is not None:
        subject_type, subject_id = "card", decision.card_id
    else:
        subject_type, subject_id = "flow", decision.flow_id
    subject = CaseSubjectKey(platform_run_id=decision.pins.platform_run_id, subject_type=subject_type,
                             subject_id=subject_id)
    return CaseTrigger(case_id=case_id_for(subject), subject=subject, decision_id=decision.decision_id,
                       action=decision.action, score=decision.score, ts_ms=decision.event_ts_ms)


def timeline_event_for(trigger: CaseTrigger) -> CaseTimelineEvent:
    return CaseTimelineEvent(
        event_id=derive_id("case_event", trigger.case_id, CaseEventType.TRIGGER_ATTACHED.value,
                           trigger.decision_id),
        case_id=trigger.case_id, subject=trigger.subject, event_type=CaseEventType.TRIGGER_ATTACHED,
        ts_ms=trigger.ts_ms, ref=trigger.decision_id, action=trigger.action)


def fold_case(events: Iterable[CaseTimelineEvent]) -> CaseView:
    """Order-independent fold: events are sorted by (ts, event_id) and de-duplicated by event_id."""
    unique = {e.event_id: e for e in events}
    ordered = sorted(unique.values(), key=lambda e: (e.ts_ms, e.event_id))
    if not ordered:
        raise ValueError("a case view needs at least one timeline event")
    worst: ActionType | None = None
    for e in ordered:
        if e.action is not None and (worst is None or SEVERITY[e.action] > SEVERITY[worst]):
            worst = e.action
    return CaseView(
        case_id=ordered[0].case_id, subject=ordered[0].subject, opened_ts_ms=ordered[0].ts_ms,
        last_ts_ms=ordered[-1].ts_ms,
        triggers=sum(e.event_type is CaseEventType.TRIGGER_ATTACHED for e in ordered),
        labels=sum(e.event_type is CaseEventType.LABEL_ATTACHED for e in ordered), worst_action=worst)
