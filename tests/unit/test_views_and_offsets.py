"""Laws 4, 7, 8: publish state, append-only views (cases, labels as-of), offsets, reconciliation."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fp_core.labels import LabelSubjectKey, LabelValue, labels_as_of, make_assertion
from fp_core.offsets import OriginOffset, merge_ranges, summarise_offsets
from fp_core.publish import settle
from fp_core.receipts import PublishState
from fp_core.reconciliation import reconcile


def test_publish_state_machine() -> None:
    assert settle(True, None) is PublishState.PUBLISHED
    assert settle(False, "timeout") is PublishState.AMBIGUOUS
    assert settle(True, "late error") is PublishState.AMBIGUOUS


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
