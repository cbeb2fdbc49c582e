"""Label store (LS): append-only label assertions and the leakage-safe as-of view over them."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from fp_core.identity import derive_id
from fp_core.model import FrozenModel


class LabelValue(StrEnum):
    """The truth a label asserts."""

    FRAUD = "FRAUD"
    LEGIT = "LEGIT"


class LabelSubjectKey(FrozenModel):
    """What a label is about: one event of one run."""

    platform_run_id: str
    event_id: str


class LabelAssertion(FrozenModel):
    """A new assertion is added for every change of mind; history is never rewritten."""

    assertion_id: str
    subject: LabelSubjectKey
    label: LabelValue
    effective_ts_ms: int
    recorded_ts_ms: int
    source: str
    scenario_run_id: str = ""


def make_assertion(subject: LabelSubjectKey, label: LabelValue, effective_ts_ms: int,
                   recorded_ts_ms: int, source: str, scenario_run_id: str = "") -> LabelAssertion:
    return LabelAssertion(
        assertion_id=derive_id("label", subject.platform_run_id, subject.event_id, label.value,
                               recorded_ts_ms, source),
        subject=subject, label=label, effective_ts_ms=effective_ts_ms, recorded_ts_ms=recorded_ts_ms,
        source=source, scenario_run_id=scenario_run_id)


def labels_as_of(assertions: Iterable[LabelAssertion], as_of_ms: int) -> dict[LabelSubjectKey, LabelAssertion]:
    """Per subject, the latest assertion recorded at or before ``as_of_ms``; later ones are invisible.

    Ties on ``recorded_ts_ms`` break by ``assertion_id`` so the view never depends on read order.
    """
    view: dict[LabelSubjectKey, LabelAssertion] = {}
    for a in assertions:
        if a.recorded_ts_ms > as_of_ms:
            continue
        cur = view.get(a.subject)
        if cur is None or (a.recorded_ts_ms, a.assertion_id) > (cur.recorded_ts_ms, cur.assertion_id):
            view[a.subject] = a
    return view
