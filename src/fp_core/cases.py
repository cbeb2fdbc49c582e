"""Case management (CM): append-only case timelines and the case view derived from them."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from fp_core.canonical import short_digest
from fp_core.decisions import DecisionRecord
from fp_core.identity import derive_id
from fp_core.model import FrozenModel
from fp_core.scoring import ActionType


class CaseSubjectKey(FrozenModel):
    """What a case is about (run, subject type and id); the case id is its hash."""

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
    scenario_run_id: str = ""


class CaseEventType(StrEnum):
    TRIGGER_ATTACHED = "TRIGGER_ATTACHED"
    LABEL_ATTACHED = "LABEL_ATTACHED"


class CaseTimelineEvent(FrozenModel):
    """One append-only event on a case timeline (a trigger or a label attached)."""

    event_id: str
    case_id: str
    subject: CaseSubjectKey
    event_type: CaseEventType
    ts_ms: int
    ref: str
    action: ActionType | None = None


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
                       action=decision.action, score=decision.score, ts_ms=decision.event_ts_ms,
                       scenario_run_id=decision.pins.scenario_run_id)


def timeline_event_for(trigger: CaseTrigger) -> CaseTimelineEvent:
    return CaseTimelineEvent(
        event_id=derive_id("case_event", trigger.case_id, CaseEventType.TRIGGER_ATTACHED.value,
                           trigger.decision_id),
        case_id=trigger.case_id, subject=trigger.subject, event_type=CaseEventType.TRIGGER_ATTACHED,
        ts_ms=trigger.ts_ms, ref=trigger.decision_id, action=trigger.action)
