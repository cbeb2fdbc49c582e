"""Service behaviour under failure: ambiguous publishes, gate refusal, stalled consumers, bad configs."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence

import pytest
from dependency_injector import providers

from fp_adapters.containers import Platform
from fp_core import topics
from fp_core.errors import GateRefused, NotFound, ObjectExists, TransientError
from fp_core.evidence import verify_bundle
from fp_core.oracle import OracleManifest, PassFlag, check_gate
from fp_core.ports import BusProducer, Delivery, OutboundMessage
from fp_core.receipts import AdmissionOutcome, PublishState
from fp_core.retry import RetryPolicy
from fp_core.run_config import RunConfig
from fp_core.services.consuming import RangeConsumer
from fp_core.services.ig import IngestionGate
from fp_core.services.run import RunResult
from fp_core.services.sr import seal_world
from tests.unit.test_admission import PINS, envelope


class FlakyProducer:
    """Wraps the real producer; the next ``fail_next`` messages are never acknowledged."""

    def __init__(self, inner: BusProducer) -> None:
        self.inner, self.fail_next = inner, 0

    def publish(self, messages: Sequence[OutboundMessage]) -> list[Delivery]:
        out = []
        for m in messages:
            if self.fail_next > 0:
                self.fail_next -= 1
                out.append(Delivery(None, "_MSG_TIMED_OUT: injected"))
            else:
                out.extend(self.inner.publish([m]))
        return out

    def close(self) -> None:
        self.inner.close()


def gate(memory: Platform) -> IngestionGate:
    g: IngestionGate = memory.gate(PINS)
    return g


def test_ambiguous_publish_is_explicit_and_resolved_by_idempotent_republish(memory: Platform) -> None:
    flaky = FlakyProducer(memory.adapters.producer())
    memory.adapters.producer.override(providers.Object(flaky))
    g = gate(memory)
    flaky.fail_next = 1
    [first] = g.submit("s1", [envelope()])
    assert first.outcome is AdmissionOutcome.ADMIT and first.publish_state is PublishState.AMBIGUOUS
    [again] = g.submit("s2", [envelope()])
    assert again.outcome is AdmissionOutcome.DUPLICATE and again.publish_state is PublishState.PUBLISHED
    [third] = g.submit("s3", [envelope()])
    assert third.outcome is AdmissionOutcome.DUPLICATE and third.publish_state is None
    ends = memory.adapters.consumer()("probe").end_offsets([topics.TRAFFIC_FRAUD])
    assert sum(ends.values()) == 1


class CrashBeforeReceipts:
    """The receipt log of an IG that dies after claim, publish and quarantine, before its receipts."""

    def __init__(self, inner: object) -> None:
        self.inner, self.crash = inner, True

    def append(self, *args: object) -> None:
        if self.crash:
            self.crash = False
            raise TransientError("injected: IG killed before its receipts were durable")
        self.inner.append(*args)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_the_kill_window_cannot_lose_a_receipt_and_a_resubmission_is_idempotent(memory: Platform) -> None:
    crashing = CrashBeforeReceipts(memory.adapters.receipts())
    memory.adapters.receipts.override(providers.Object(crashing))
    g = gate(memory)
    batch = [envelope("a" * 32), envelope("b" * 32), b"{not json", envelope("a" * 32)]
    with pytest.raises(TransientError):
        g.submit("s1", batch)
    bus = memory.probe().end_offsets([topics.TRAFFIC_FRAUD])
    first = g.submit("s1", batch)  # the same submission again, as WSP retries or restarts it
    assert [r.outcome for r in first] == [AdmissionOutcome.ADMIT, AdmissionOutcome.ADMIT,
                                          AdmissionOutcome.QUARANTINE, AdmissionOutcome.DUPLICATE]
    assert all(r.publish_state is PublishState.PUBLISHED for r in first[:2])
    republished = memory.probe().end_offsets([topics.TRAFFIC_FRAUD])
    assert sum(republished.values()) - sum(bus.values()) == 2  # a documented republish per orphaned claim
    again = g.submit("s1", batch)
    assert again == first  # durable: answered with the receipts written, nothing else happens
    assert memory.probe().end_offsets([topics.TRAFFIC_FRAUD]) == republished
    counts = memory.adapters.receipts().counts(PINS.platform_run_id)
    assert sum(sum(c.values()) for c in counts.values()) == 4


def test_quarantine_payload_is_kept_verbatim_and_indexed(memory: Platform) -> None:
    g = gate(memory)
    receipts = g.submit("s1", [b"garbage", envelope(amount=1), envelope(amount=2)])
    assert [r.outcome for r in receipts] == [AdmissionOutcome.QUARANTINE, AdmissionOutcome.ADMIT,
                                             AdmissionOutcome.ANOMALY]
    lines = [json.loads(x) for x in g.objects.get("quarantine/pr-1/s1.jsonl").splitlines()]
    assert [ln["reason"] for ln in lines] == ["INVALID_ENVELOPE", "PAYLOAD_HASH_MISMATCH"]
    assert len(g.quarantine_index.for_run("pr-1")) == 2
    with pytest.raises(ObjectExists):
        g.objects.put("quarantine/pr-1/s1.jsonl", b"overwrite")


def test_no_pass_no_read_and_tampering_refused(memory: Platform) -> None:
    objects = memory.adapters.objects()
    manifest = seal_world(objects, 1, 400)
    cfg = RunConfig(env="memory", seed=1, events=400)
    ready = memory.sr().ready(cfg, "pr-a")
    assert ready.pins.manifest_fingerprint == manifest.fingerprint()
    assert seal_world(objects, 1, 400) == manifest  # sealed outputs are reused, never rewritten
    key = manifest.stream_view_keys()[0]
    digests = {o.key: o.sha256 for o in manifest.objects}
    with pytest.raises(GateRefused, match="no PASS"):
        check_gate(manifest, None, digests)
    with pytest.raises(GateRefused, match="digest"):
        check_gate(manifest, PassFlag(scenario_run_id=manifest.scenario_run_id,
                                      manifest_fingerprint=manifest.fingerprint()), dict(digests, **{key: "0" * 64}))
    with pytest.raises(GateRefused, match="does not seal"):
        check_gate(manifest, PassFlag(scenario_run_id=manifest.scenario_run_id, manifest_fingerprint="b" * 64),
                   digests)
    with pytest.raises(GateRefused, match="missing"):
        check_gate(manifest, PassFlag(scenario_run_id=manifest.scenario_run_id,
                                      manifest_fingerprint=manifest.fingerprint()), {})
    with pytest.raises(GateRefused, match="status"):
        check_gate(manifest, PassFlag(scenario_run_id=manifest.scenario_run_id,
                                      manifest_fingerprint=manifest.fingerprint(), status="FAIL"), digests)
    assert isinstance(OracleManifest.model_validate_json(manifest.model_dump_json()), OracleManifest)


class MissingOracle:
    def ready(self, config: RunConfig, platform_run_id: str) -> None:
        raise NotFound("oracle/sr-x/manifest.json")


def test_missing_oracle_fails_the_run_with_a_partial_bundle(memory: Platform) -> None:
    memory.sr.override(providers.Object(MissingOracle()))
    result = memory.workflow().run(RunConfig(env="memory", seed=1, events=100), "pr-f")
    objects = memory.adapters.objects()
    assert result.status == "FAILED" and result.summary["failure_stage"] == "sr_ready"
    failed = json.loads(objects.get("evidence/runs/pr-f/run_failed.json"))
    assert failed["failure_stage"] == "sr_ready" and "NotFound" in failed["reason"]
    assert failed["header"]["pins"] == {} and not objects.exists("evidence/runs/pr-f/run.json")


class FailingStage:
    """Wraps a stage; its first ``times`` calls fail as a dependency outage would."""

    def __init__(self, inner: object, times: int) -> None:
        self.inner, self.times, self.calls = inner, times, 0

    def run(self, *args: object) -> object:
        return self._call("run", *args)

    def for_run(self, *args: object) -> object:
        return self._call("for_run", *args)

    def _call(self, method: str, *args: object) -> object:
        self.calls += 1
        if self.calls <= self.times:
            raise TransientError("a store unavailable (injected)")
        return getattr(self.inner, method)(*args)


def flaky_stage(memory: Platform, stage: str, times: int) -> FailingStage:
    """``stage``'s service replaced by one whose first ``times`` calls fail transiently."""
    provider = getattr(memory, stage)
    flaky = FailingStage(provider(), times)
    provider.override(providers.Object(flaky))
    return flaky


def run_with_retries(memory: Platform, attempts: int, run_id: str, seed: int = 2) -> RunResult:
    return memory.workflow(stage_retry=RetryPolicy(attempts=attempts, base_s=0.01)).run(
        RunConfig(env="memory", seed=seed, events=400), run_id)


def test_a_transient_stage_failure_is_retried_and_the_run_completes(memory: Platform) -> None:
    flaky = flaky_stage(memory, "cm", times=2)
    result = run_with_retries(memory, 3, "pr-flaky")
    assert result.status == "COMPLETED" and flaky.calls == 3
    assert not memory.adapters.objects().exists("evidence/runs/pr-flaky/run_failed.json")


def test_the_archive_beside_the_closing_is_started_again_when_it_fails(memory: Platform) -> None:
    flaky = flaky_stage(memory, "archive", times=2)
    result = run_with_retries(memory, 3, "pr-archive-flaky")
    assert result.status == "COMPLETED" and flaky.calls == 3
    assert result.summary["counts"]["archive_objects"] > 0
    assert verify_bundle(result.files) == []
    flaky.times, flaky.calls = 5, 0
    failed = run_with_retries(memory, 2, "pr-archive-down", seed=3)
    assert failed.status == "FAILED" and failed.summary["failure_stage"] == "archive" and flaky.calls == 2


def test_a_failed_run_is_resumed_completed_and_closed_with_its_failure_record_kept(memory: Platform) -> None:
    flaky_stage(memory, "cm", times=1)
    config = RunConfig(env="memory", seed=2, events=400, drills=("duplicates",))
    failed = memory.workflow(stage_retry=RetryPolicy(attempts=1)).run(config, "pr-retry")
    assert failed.status == "FAILED" and failed.summary["failure_stage"] == "cm"
    objects = memory.adapters.objects()
    record = json.loads(objects.get("evidence/runs/pr-retry/run_failed.json"))
    assert set(record["offsets_consumed_by_group"]) == {"fp-rtdl", "fp-cm", "fp-archive"}
    assert record["offsets_consumed"] and record["header"]["pins"]["platform_run_id"] == "pr-retry"
    assert record["unavailable"] == {}
    sent_before = memory.facts().read("pr-retry").require_stream().sent_by_class
    resumed = memory.workflow().resume("pr-retry")  # WSP and RTDL are done: only CM, LS, archive, reporter run
    assert resumed.status == "COMPLETED", resumed.summary
    assert set(resumed.summary["durations_s"]) == {"cm", "ls", "reporter_reads", "archive", "archive_wait", "rtdl",
                                                     "pipeline_wall", "reporter", "ready_to_closed"}
    assert memory.facts().read("pr-retry").require_stream().sent_by_class == sent_before
    assert verify_bundle(resumed.files) == [] and "run_failed.json" in resumed.files
    listed = json.loads(resumed.files["run_completed.json"])["files"]
    assert "run_failed.json" in listed and "run_started.json" in listed


def test_a_run_whose_orchestrator_died_is_closed_as_failed_then_resumed(memory: Platform) -> None:
    ready = memory.sr().ready(RunConfig(env="memory", seed=2, events=400), "pr-orphan")
    memory.wsp().stream(ready)  # ... and then the orchestrator died: RTDL never ran
    closed = memory.workflow().close("pr-orphan")
    assert closed.status == "FAILED" and closed.summary["failure_stage"] == "rtdl"
    again = memory.workflow().close("pr-orphan")
    assert again.summary["failure_key"].endswith("run_failed.2.json")  # write-once: a successor, not an overwrite
    resumed = memory.workflow().resume("pr-orphan")
    assert resumed.status == "COMPLETED" and "wsp_ig" not in resumed.summary["durations_s"]
    assert resumed.summary["counts"]["decisions"] > 0


def test_a_failure_record_is_written_when_the_stores_behind_it_are_down(memory: Platform) -> None:
    class Down:
        def __getattr__(self, name: str) -> object:
            def fail(*_a: object, **_k: object) -> object:
                raise TransientError("postgres: connection refused (injected)")
            return fail

    memory.adapters.checkpoints.override(providers.Object(Down()))
    memory.adapters.receipts.override(providers.Object(Down()))
    key = memory.reporter().write_failure("pr-down", None, "wsp_ig", "TransientError: postgres", {}, ["fp-rtdl"])
    record = json.loads(memory.adapters.objects().get(key))
    assert record["failure_stage"] == "wsp_ig" and set(record["unavailable"]) == {"anomalies",
                                                                                  "offsets_consumed_by_group"}


def test_verify_requires_one_record_per_requested_drill() -> None:
    run = {"platform_run_id": "pr", "config": {"drills": ["lag", "duplicates"]}}
    problems = verify_bundle({"run.json": json.dumps(run).encode(), "drills/lag.json": b"{}"})
    assert "drill duplicates was requested but drills/duplicates.json is missing" in problems


def test_stalled_consumer_raises_instead_of_hanging(memory: Platform) -> None:
    a = memory.adapters
    rc = RangeConsumer(a.consumer()("g"), a.checkpoints(), a.clock(), a.log(), "pr", "g", stall_timeout_s=1.0)
    with pytest.raises(TransientError, match="no records"):
        rc.drain({("fp.bus.control.v1", 0): 0}, {("fp.bus.control.v1", 0): 5}, lambda recs: {})


def test_a_closure_that_died_part_way_is_redone_and_closing_again_is_a_no_op(memory: Platform) -> None:
    result = memory.workflow().run(RunConfig(env="memory", seed=3, events=400), "pr-close")
    objects = memory.adapters.objects()
    files = dict(result.files)
    # what a reporter killed mid-closure leaves: some files of the bundle, no run_completed.json
    for name in ("run_completed.json", "obs/metrics.json"):
        objects._s.objects.pop(f"evidence/runs/pr-close/{name}")  # type: ignore[attr-defined]
    objects.put("evidence/runs/pr-close/run.json", b"{half written", overwrite=True)
    closed = memory.workflow().close("pr-close")
    assert closed.status == "COMPLETED" and verify_bundle(closed.files) == []
    assert closed.files["decisions/dla_summary.json"] == files["decisions/dla_summary.json"]
    again = memory.workflow().close("pr-close")
    assert again.summary == {"already_closed": True} and again.files == closed.files
    assert memory.workflow().resume("pr-close").summary == {"already_closed": True}


class SteppingClock:
    """Monotonic time that moves ``step_s`` each time it is read."""

    def __init__(self, step_s: float) -> None:
        self.t, self.step_s = 0.0, step_s

    def now_ms(self) -> int:
        return int(self.t * 1000)

    def monotonic(self) -> float:
        self.t += self.step_s
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def test_consumer_commits_at_most_once_per_interval_and_everything_at_the_end(memory: Platform) -> None:
    a = memory.adapters
    deliveries = a.producer().publish([OutboundMessage(topics.AUDIT, b"k", b"v%d" % i) for i in range(40)])
    origins = [d.origin for d in deliveries if d.origin is not None]
    assert len({(o.topic, o.partition) for o in origins}) == 1 and len(origins) == 40  # one key, one partition
    tp = (origins[0].topic, origins[0].partition)
    start, end = {tp: origins[0].offset}, {tp: origins[-1].offset + 1}
    clock = SteppingClock(0.01)  # 3 reads per one-record batch: 0.03 s a batch
    rc = RangeConsumer(a.consumer()("g-cadence"), a.checkpoints(), clock, a.log(), "pr-cadence", "g-cadence",
                       max_batch=1, commit_interval_s=0.2)
    report = rc.drain(start, end, lambda recs: {tp: recs[-1].origin.offset + 1})
    assert report.batches == 40
    assert 2 <= report.commits <= 40 * 0.03 / 0.2 + 2, report.commits  # not one per batch
    ranges = a.checkpoints().ranges("pr-cadence", "g-cadence")
    assert ranges[0].start_offset == start[tp] and ranges[-1].end_offset == end[tp] - 1
    assert all(r.start_offset == q.end_offset + 1 for q, r in itertools.pairwise(ranges))


def test_a_success_is_told_by_its_receipt_and_every_attempt_is_still_a_publish_record() -> None:
    from fp_core.offsets import OriginOffset
    from fp_core.receipts import PublishRecord, Receipt, publish_records, untold

    at, other = OriginOffset("fp.bus.traffic.fraud.v1", 0, 3), OriginOffset("fp.bus.traffic.fraud.v1", 0, 4)

    def receipt(eid: str, state: PublishState | None, where: OriginOffset | None) -> Receipt:
        return Receipt(receipt_id=f"r-{eid}", platform_run_id="pr", scenario_run_id="sr", event_class="traffic",
                       event_id=eid, event_type="t", outcome=AdmissionOutcome.ADMIT, payload_hash="h",
                       publish_state=state, published_at=where)

    def record(eid: str, state: PublishState, where: OriginOffset | None, error: str = "") -> PublishRecord:
        return PublishRecord(platform_run_id="pr", event_class="traffic", event_id=eid, state=state,
                             published_at=where, error=error)

    receipts = [receipt("a", PublishState.PUBLISHED, at), receipt("b", PublishState.AMBIGUOUS, None),
                receipt("c", None, None)]
    ambiguous = record("b", PublishState.AMBIGUOUS, None, "timed out")
    assert untold(receipts, [ambiguous]) == [ambiguous]
    # a caller that still passes the success gets it logged once; one at another offset is its own attempt
    assert untold(receipts, [record("a", PublishState.PUBLISHED, at), ambiguous]) == [ambiguous]
    elsewhere = record("a", PublishState.PUBLISHED, other)
    assert untold(receipts, [elsewhere]) == [elsewhere]
    assert publish_records(receipts, [ambiguous]) == [record("a", PublishState.PUBLISHED, at), ambiguous]
