"""Laws 4, 7, 8: publish state, append-only views (cases, labels as-of), offsets, reconciliation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fp_core.cases import CaseEventType, CaseSubjectKey, CaseTimelineEvent, case_id_for, fold_case
from fp_core.labels import LabelSubjectKey, LabelValue, labels_as_of, make_assertion
from fp_core.offsets import OriginOffset, merge_ranges, summarise_offsets
from fp_core.publish import advance, needs_republish, settle
from fp_core.receipts import PublishState
from fp_core.reconciliation import reconcile
from fp_core.scoring import ActionType


def test_publish_state_machine() -> None:
    assert settle(True, None) is PublishState.PUBLISHED
    assert settle(False, "timeout") is PublishState.AMBIGUOUS
    assert settle(True, "late error") is PublishState.AMBIGUOUS
    assert advance(PublishState.PENDING, PublishState.AMBIGUOUS) is PublishState.AMBIGUOUS
    assert advance(PublishState.AMBIGUOUS, PublishState.PUBLISHED) is PublishState.PUBLISHED
    with pytest.raises(ValueError, match="cannot go"):
        advance(PublishState.PUBLISHED, PublishState.AMBIGUOUS)
    assert needs_republish(PublishState.AMBIGUOUS) and needs_republish(PublishState.PENDING)
    assert not needs_republish(PublishState.PUBLISHED)


SUBJECT = CaseSubjectKey(platform_run_id="pr", subject_type="card", subject_id="k1")
CASE = case_id_for(SUBJECT)
case_events = st.lists(st.tuples(st.integers(0, 100), st.sampled_from(list(ActionType)), st.booleans()),
                       min_size=1, max_size=20)


def make_events(spec: list[tuple[int, ActionType, bool]]) -> list[CaseTimelineEvent]:
    return [CaseTimelineEvent(event_id=f"e{i}", case_id=CASE, subject=SUBJECT,
                              event_type=CaseEventType.LABEL_ATTACHED if label else CaseEventType.TRIGGER_ATTACHED,
                              ts_ms=ts, ref=f"d{i}", action=None if label else act)
            for i, (ts, act, label) in enumerate(spec)]


@given(case_events, st.randoms(use_true_random=False), st.integers(1, 5))
def test_case_fold_independent_of_order_batching_and_replay(spec: list[tuple[int, ActionType, bool]],
                                                          rnd: object, split: int) -> None:
    events = make_events(spec)
    shuffled = list(events)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    batches = [shuffled[i:i + split] for i in range(0, len(shuffled), split)]
    replayed = [e for b in batches for e in b] + events[: len(events) // 2]
    assert fold_case(replayed) == fold_case(events)


def test_case_fold_needs_events() -> None:
    with pytest.raises(ValueError, match="at least one"):
        fold_case([])


assertions = st.lists(st.tuples(st.integers(0, 3), st.sampled_from(list(LabelValue)), st.integers(0, 1000)),
                      max_size=25)


@given(assertions, st.integers(0, 1000), st.randoms(use_true_random=False))
def test_labels_as_of_never_see_the_future_and_ignore_order(spec: list[tuple[int, LabelValue, int]], as_of: int,
                                                           rnd: object) -> None:
    rows = [make_assertion(LabelSubjectKey(platform_run_id="pr", event_id=f"t{s}"), v, 0, rec, "src")
            for s, v, rec in spec]
    view = labels_as_of(rows, as_of)
    assert all(a.recorded_ts_ms <= as_of for a in view.values())
    shuffled = list(rows)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert labels_as_of(shuffled, as_of) == view
    for subject, a in view.items():
        later = [r for r in rows if r.subject == subject and r.recorded_ts_ms <= as_of]
        assert a.recorded_ts_ms == max(r.recorded_ts_ms for r in later)


offsets = st.lists(st.tuples(st.sampled_from(["t1", "t2"]), st.integers(0, 2), st.integers(0, 10_000)),
                   max_size=40)


@given(offsets)
def test_offset_summary_bounds_every_offset(spec: list[tuple[str, int, int]]) -> None:
    origins = [OriginOffset(topic=t, partition=p, offset=o) for t, p, o in spec]
    ranges = summarise_offsets(origins)
    keys = [(r.topic, r.partition) for r in ranges]
    assert keys == sorted(set(keys))
    for o in origins:
        [r] = [r for r in ranges if (r.topic, r.partition) == (o.topic, o.partition)]
        assert r.start_offset <= o.offset <= r.end_offset
    assert merge_ranges(ranges) == ranges
    assert all(r.count >= 1 for r in ranges)


def test_reconciliation_balances_per_class() -> None:
    ok = reconcile({"traffic": 5}, {"traffic": {"ADMIT": 3, "DUPLICATE": 1, "ANOMALY": 1}})
    assert ok.balanced and ok.emitted_total == 5
    bad = reconcile({"traffic": 5, "ctx": 1}, {"traffic": {"ADMIT": 5}})
    assert not bad.balanced
    assert [c.event_class for c in bad.classes if not c.balanced] == ["ctx"]
