"""The check list: the laws (seed section 7, 10.1, 11.4) and the per-port contracts. Each check raises
on a violation and returns a one-line detail when it holds.

The list is the same for every environment by construction: nothing here branches on the env name.
An adapter set that cannot hold a check declares it (``conformance_skips``: name -> reason), and the
report shows it as a skip with that reason.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fp_conformance.context import ConformanceContext, captured_logs, envelope
from fp_conformance.contracts import CONTRACTS
from fp_core import topics
from fp_core.decisions import ActionIntent, ActionOutcome, AuditRecord
from fp_core.degrade import DegradeMode, DegradeReason
from fp_core.event_class import FRAUD_CLASS_MAP, EventClass
from fp_core.evidence import bundle_prefix, verify_bundle
from fp_core.identity import DedupeKey
from fp_core.offsets import OffsetRange, OriginOffset, merge_ranges
from fp_core.ports import BusRecord, DecisionLedger
from fp_core.receipts import AdmissionOutcome, PublishState, QuarantineReason, ReceiptRow
from fp_core.run_config import RunConfig, config_digest
from fp_core.scoring import ActionType
from fp_core.services.control import input_range
from fp_core.services.rtdl import RTDL_GROUP


@dataclass(frozen=True)
class Check:
    name: str
    law: str
    run: Callable[[ConformanceContext], str]


def _hex(n: int) -> str:
    return f"{n:032x}"


def dedupe_tuple_exact(ctx: ConformanceContext) -> str:
    a, b = ctx.pins(ctx.run_id("dedupe-a")), ctx.pins(ctx.run_id("dedupe-b"))
    out = [r.outcome for r in ctx.container.gate(a).submit("s1", [
        envelope(a, _hex(1)), envelope(a, _hex(1), "arrival_event"), envelope(a, _hex(1))])]
    assert out == [AdmissionOutcome.ADMIT, AdmissionOutcome.ADMIT, AdmissionOutcome.DUPLICATE], out
    [other_run] = ctx.container.gate(b).submit("s1", [envelope(b, _hex(1))])
    assert other_run.outcome is AdmissionOutcome.ADMIT
    keys = [DedupeKey(a.platform_run_id, "traffic_fraud", _hex(1)),
            DedupeKey(a.platform_run_id, "context_arrival_events", _hex(1)),
            DedupeKey(b.platform_run_id, "traffic_fraud", _hex(1))]
    assert set(ctx.ports.admission_index.first_hashes(keys)) == set(keys)
    return "same event_id admitted once per (run, class); class or run differing -> separate admissions"


def duplicate_receipt_no_double_action(ctx: ConformanceContext) -> str:
    pins = ctx.pins(ctx.run_id("dup"))
    gate = ctx.container.gate(pins)
    [first] = gate.submit("s1", [envelope(pins, _hex(2))])
    [second] = gate.submit("s2", [envelope(pins, _hex(2))])
    assert (first.outcome, second.outcome) == (AdmissionOutcome.ADMIT, AdmissionOutcome.DUPLICATE)
    receipts = ctx.ports.receipts.for_events(pins.platform_run_id, [_hex(2)])
    assert sorted(r.outcome.value for r in receipts) == ["ADMIT", "DUPLICATE"]
    assert len({r.receipt_id for r in receipts}) == 2
    intent = ActionIntent(idempotency_key=f"{pins.platform_run_id}-k", decision_id="d1",
                          platform_run_id=pins.platform_run_id, action=ActionType.DECLINE)
    assert len(ctx.ports.action_log.execute([intent])) == 1
    assert ctx.ports.action_log.execute([intent, intent]) == []
    counts = ctx.ports.action_log.outcome_counts(pins.platform_run_id)
    assert counts == {"intents": 1, "outcomes": 1, "duplicate_outcomes": 0}, counts
    return "DUPLICATE has its own receipt; an idempotency key acts once however often it is replayed"


def payload_mismatch_anomaly(ctx: ConformanceContext) -> str:
    pins = ctx.pins(ctx.run_id("mismatch"))
    gate = ctx.container.gate(pins)
    [first] = gate.submit("s1", [envelope(pins, _hex(3), amount=100)])
    [second] = gate.submit("s2", [envelope(pins, _hex(3), amount=999)])
    assert second.outcome is AdmissionOutcome.ANOMALY and second.reason is QuarantineReason.PAYLOAD_HASH_MISMATCH
    key = DedupeKey(pins.platform_run_id, "traffic_fraud", _hex(3))
    assert ctx.ports.admission_index.first_hashes([key]) == {key: first.payload_hash}
    [entry] = ctx.ports.quarantine_index.for_run(pins.platform_run_id)
    assert entry.reason is QuarantineReason.PAYLOAD_HASH_MISMATCH and entry.receipt_id == second.receipt_id
    raw = json.loads(ctx.ports.objects.get(entry.object_key).splitlines()[entry.line])
    assert raw["receipt_id"] == second.receipt_id
    ctx.ports.quarantine_index.record([entry.model_copy(update={"detail": "overwritten?"})])
    assert ctx.ports.quarantine_index.for_run(pins.platform_run_id) == [entry]
    return "ANOMALY quarantined (payload kept, indexed, index never overwritten); first admission unchanged"


def bad_events_quarantined_with_reason(ctx: ConformanceContext) -> str:
    pins = ctx.pins(ctx.run_id("bad"))
    foreign = pins.model_copy(update={"platform_run_id": pins.platform_run_id + "-x"})
    mismatched = pins.model_copy(update={"bundle_id": "other:9"})
    receipts = ctx.container.gate(pins).submit("s1", [
        b"\xff not json", envelope(pins, _hex(4), "loyalty_points"), envelope(foreign, _hex(5)),
        envelope(pins, _hex(6), amount=-1), envelope(mismatched, _hex(7)),
        envelope(pins, _hex(9)).replace(b'"currency": "GBP"', b'"currency": "GBP", "x": NaN'),
        envelope(pins, _hex(10)).replace(b'"currency": "GBP"', b'"currency": "GBP", "a\\u0000b": 1')])
    got = [(r.outcome, r.reason) for r in receipts]
    want = [QuarantineReason.INVALID_ENVELOPE, QuarantineReason.UNKNOWN_EVENT_TYPE, QuarantineReason.FOREIGN_RUN,
            QuarantineReason.INVALID_PAYLOAD, QuarantineReason.PIN_MISMATCH, QuarantineReason.INVALID_PAYLOAD,
            QuarantineReason.INVALID_PAYLOAD]
    assert got == [(AdmissionOutcome.QUARANTINE, r) for r in want], got
    assert "payload.amount_minor" in receipts[3].detail and "pins.bundle_id" in receipts[4].detail
    assert "\x00" not in receipts[6].detail and "a\\u0000b" in receipts[6].detail
    assert len(ctx.ports.quarantine_index.for_run(pins.platform_run_id)) == 7
    return ("invalid envelope, unknown type, foreign run, invalid payload, pin mismatch, a non-finite number, "
            "a NUL in a field name -> QUARANTINE + reason, stored by every index")


def publish_ambiguity_explicit(ctx: ConformanceContext) -> str:
    pins = ctx.pins(ctx.run_id("ambiguous"))
    broken = {k: EventClass(name=v.name, topic="fp.bus.conformance.missing.v1", payload_schema=v.payload_schema)
              for k, v in FRAUD_CLASS_MAP.items()}
    with ctx.other_container(delivery_timeout_s=3.0) as other:
        [first] = other.gate(pins, class_map=broken).submit("s1", [envelope(pins, _hex(8))])
    assert first.outcome is AdmissionOutcome.ADMIT and first.publish_state is PublishState.AMBIGUOUS, first
    assert ctx.ports.receipts.unresolved_publishes(pins.platform_run_id) == 1
    [again] = ctx.container.gate(pins).submit("s2", [envelope(pins, _hex(8))])
    assert again.outcome is AdmissionOutcome.DUPLICATE and again.publish_state is PublishState.PUBLISHED, again
    assert ctx.ports.receipts.unresolved_publishes(pins.platform_run_id) == 0
    at = again.published_at
    assert at is not None
    consumer = ctx.ports.consumer(f"fp-conformance-{ctx.session}")
    try:
        consumer.assign({(at.topic, at.partition): at.offset})
        records = []
        for _ in range(20):
            records = consumer.poll_batch(1, 1.0)
            if records:
                break
    finally:
        consumer.close()
    assert records and json.loads(records[0].value)["event_id"] == _hex(8)
    return "unacknowledged publish recorded AMBIGUOUS; resolved by idempotent re-publish, now PUBLISHED on the bus"


def truth_stores_append_only(ctx: ConformanceContext) -> str:
    """Through the ports (the only way services write): re-appending a record id with other content
    changes nothing, so no truth is ever rewritten. (Postgres also refuses UPDATE/DELETE/TRUNCATE by
    trigger: an adapter-level guarantee tested in tests/integration.)"""
    run = ctx.small_run().result.platform_run_id
    p = ctx.ports
    [audit] = list(itertools.islice(p.audit_log.scan(run), 1))
    forged = audit.model_copy(update={"decision": audit.decision.model_copy(update={"policy_id": "forged"})})
    assert p.audit_log.append([forged]) == 0 and p.audit_log.for_events(run, [audit.decision.event_id]) == [audit]
    label = p.labels.for_run(run)[0]
    assert p.labels.append([label.model_copy(update={"source": "forged"})]) == 0
    assert p.labels.for_run(run)[0] == label
    [receipt] = p.receipts.sample(run, 1)
    before = p.receipts.counts(run)
    p.receipts.append([ReceiptRow.of(receipt.model_copy(update={"detail": "forged"}))], [])
    assert p.receipts.counts(run) == before, "a receipt id was appended twice"
    assert receipt in p.receipts.for_events(run, [receipt.event_id])
    return "audit, label and receipt records keep their first content when their id is appended again"


def origin_offsets_replayable(ctx: ConformanceContext) -> str:
    small = ctx.small_run()
    run = small.result.platform_run_id
    ranges = merge_ranges(ctx.ports.checkpoints.ranges(run, RTDL_GROUP))
    assert ranges, "no consumed ranges recorded"
    consumer = ctx.ports.consumer(f"fp-conformance-replay-{ctx.session}")
    seen: set[OriginOffset] = set()
    try:
        consumer.assign({(r.topic, r.partition): r.start_offset for r in ranges})
        want = sum(r.count for r in ranges)
        for _ in range(200):
            for rec in consumer.poll_batch(5_000, 0.5):
                r = next(x for x in ranges if (x.topic, x.partition) == (rec.origin.topic, rec.origin.partition))
                if rec.origin.offset <= r.end_offset:
                    seen.add(rec.origin)
            if len(seen) >= want:
                break
    finally:
        consumer.close()
    used = {o for a in ctx.ports.audit_log.scan(run) for o in a.decision.origin_offsets}
    assert used <= seen, f"{len(used - seen)} origin offsets of decisions are outside the recorded ranges"
    rtdl = json.loads(small.result.files["obs/metrics.json"])["counts"]
    assert len(seen) == rtdl["rtdl_consumed"], (len(seen), rtdl["rtdl_consumed"])
    return f"{len(ranges)} offset ranges re-read exactly the {len(seen)} consumed records, covering every origin used"


class FailingLedger:
    """The decision ledger, unavailable once ``armed`` (after some decisions were committed)."""

    def __init__(self, inner: DecisionLedger) -> None:
        self.inner, self.durable, self.armed = inner, 0, False

    def record(self, records: Sequence[AuditRecord]) -> list[ActionOutcome]:
        if self.armed:
            raise ConnectionError("decision ledger unavailable (injected)")
        self.durable += len(records)
        return self.inner.record(records)


def offsets_never_ahead_of_durable_writes(ctx: ConformanceContext) -> str:
    run = ctx.run_id("commit")
    ready = ctx.container.sr().ready(RunConfig(env=ctx.env, seed=31, events=4000), run)
    stream = ctx.container.wsp().stream(ready)
    start, end = input_range(stream)
    audit = FailingLedger(ctx.ports.decision_ledger)
    p = ctx.ports
    group = f"fp-conformance-commit-{ctx.session}"

    def handle(records: Sequence[BusRecord]) -> dict[tuple[str, int], int]:
        safe: dict[tuple[str, int], int] = loop.handle(records)
        audit.armed = audit.durable > 0  # the outage starts after the first batch whose decisions are durable
        return safe

    # Commits after every batch: the cadence where an offset ahead of its durable writes would show first.
    with ctx.other_container(max_partition_fetch_bytes=8192, commit_interval_s=0.0) as small_fetches:
        loop = small_fetches.decision_loop(pins=ready.pins, bundle=ready.config.bundle, policy=ready.config.policy,
                                           start=start, end=end, batch_size=20, ledger=audit)
        try:
            small_fetches.drainer().drain(group, run, 100, start, end, handle, loop.flush)
            raise AssertionError("the injected audit failure did not stop the loop")
        except ConnectionError:
            pass
    probe = p.consumer(group)
    try:
        committed = probe.committed(sorted(end))
    finally:
        probe.close()
    traffic = [tp for tp in end if tp[0] == topics.TRAFFIC_FRAUD]
    committed_traffic = {tp: committed[tp] or start[tp] for tp in traffic}
    assert sum(committed_traffic[tp] - start[tp] for tp in traffic) > 0, "nothing was committed before the failure"
    decided = {a.decision.origin_offsets[0] for a in ctx.ports.audit_log.scan(run)}
    for (topic, part), upto in committed_traffic.items():
        for off in range(start[(topic, part)], upto):
            origin = OriginOffset(topic=topic, partition=part, offset=off)
            assert origin in decided, f"{topic}:{part}@{off} committed without a durable decision"
    ranges = p.checkpoints.ranges(run, group)
    assert all(r.end_offset < (committed[(r.topic, r.partition)] or 0) for r in ranges)
    n = sum(committed_traffic[tp] - start[tp] for tp in traffic)
    return f"after an injected audit outage, all {n} committed traffic offsets have durable decisions"


def missing_context_degrades_in_audit(ctx: ConformanceContext) -> str:
    run = ctx.small_run().result.platform_run_id
    degraded = [a for a in ctx.ports.audit_log.scan(run) if a.decision.degrade.mode is DegradeMode.TXN_ONLY]
    missing = [a for a in degraded if DegradeReason.FLOW_ANCHOR_MISSING in a.decision.degrade.reasons]
    assert missing, "the missing-context drill produced no degraded decision"
    assert all(a.decision.action is not ActionType.DECLINE for a in degraded)
    drill = json.loads(ctx.small_run().result.files["drills/missing_context.json"])
    assert drill["passed"], drill
    return f"{len(missing)} decisions degraded TXN_ONLY with FLOW_ANCHOR_MISSING recorded in the audit trail"


def provenance_pins_everywhere(ctx: ConformanceContext) -> str:
    small = ctx.small_run()
    run_doc = json.loads(small.result.files["run.json"])
    pins = run_doc["pins"]
    assert pins["platform_run_id"] == small.result.platform_run_id and pins["scenario_run_id"]
    assert run_doc["config_digest"] == config_digest(small.config)
    n = 0
    for a in ctx.ports.audit_log.scan(small.result.platform_run_id):
        d = a.decision
        assert d.pins.model_dump(mode="json") == pins
        assert d.bundle.bundle_id and d.bundle.parameters_digest and d.policy_id and d.origin_offsets
        n += 1
    assert n > 0
    return f"{n} decisions and run.json carry the run's pins, bundle/policy ids and origin offsets"


def config_digest_deterministic_and_sensitive(ctx: ConformanceContext) -> str:
    a = RunConfig(env=ctx.env, seed=1, events=100)
    assert config_digest(a) == config_digest(RunConfig(env=ctx.env, seed=1, events=100))
    for change in ({"seed": 2}, {"events": 101}, {"drills": ("lag",)}):
        assert config_digest(a) != config_digest(a.model_copy(update=change)), change
    return "same config -> same digest; any change -> a different digest"


def evidence_bundle_complete(ctx: ConformanceContext) -> str:
    small = ctx.small_run()
    assert small.result.status == "COMPLETED", small.result.summary
    prefix = bundle_prefix(small.result.platform_run_id) + "/"
    files = {k.removeprefix(prefix): ctx.ports.objects.get(k) for k in ctx.ports.objects.list(prefix)}
    problems = verify_bundle(files)
    assert problems == [], problems
    return f"{len(files)} files at {ctx.ports.objects.uri(prefix)}, complete and consistent, all drills passed"


def secrets_absent_from_logs_and_evidence(ctx: ConformanceContext) -> str:
    small = ctx.small_run()
    secrets = ctx.ports.secrets_in_use
    canary = f"canary-{uuid.uuid4().hex}"
    with captured_logs() as buffer:
        ctx.ports.log.info("conformance.canary", api_secret=canary, sasl_password=canary)
    logs = small.logs + buffer.getvalue()
    assert small.logs.count("platform_run_id") > 0, "the run emitted no correlated log lines"
    evidence = b"".join(small.result.files.values()).decode()
    for secret in [*secrets, canary]:
        assert secret not in logs, "a secret reached the logs"
        assert secret not in evidence, "a secret reached the evidence bundle"
    return f"{len(secrets)} bus credential(s) and a canary absent from {len(logs)} log chars and the bundle"


def replay_ranges_match_stream_facts(ctx: ConformanceContext) -> str:
    small = ctx.small_run()
    ranges = json.loads(small.result.files["replay/offset_ranges.json"])["ranges"]
    got = {(r["topic"], r["partition"]): (r["start_offset"], r["end_offset"]) for r in ranges}
    total = sum(e - s + 1 for s, e in got.values())
    assert total == json.loads(small.result.files["obs/metrics.json"])["counts"]["rtdl_consumed"]
    assert all(isinstance(OffsetRange.model_validate(r, strict=False), OffsetRange) for r in ranges)
    return f"replay anchors cover {len(got)} partitions and exactly the {total} records RTDL consumed"


LAWS: tuple[Check, ...] = (
    Check("dedupe_tuple_exact", "7.1", dedupe_tuple_exact),
    Check("duplicate_receipt_no_double_action", "7.1", duplicate_receipt_no_double_action),
    Check("payload_mismatch_anomaly_quarantined", "7.1", payload_mismatch_anomaly),
    Check("invalid_unknown_foreign_quarantined", "7.1", bad_events_quarantined_with_reason),
    Check("publish_ambiguity_explicit_and_resolved", "7.1", publish_ambiguity_explicit),
    Check("truth_stores_reject_update_delete", "7.2", truth_stores_append_only),
    Check("origin_offsets_replay_exactly", "7.3", origin_offsets_replayable),
    Check("replay_anchors_in_evidence", "7.3", replay_ranges_match_stream_facts),
    Check("offsets_never_committed_ahead_of_durable_writes", "7.3", offsets_never_ahead_of_durable_writes),
    Check("missing_context_degrades_in_audit", "7.4", missing_context_degrades_in_audit),
    Check("provenance_pins_on_decisions_and_evidence", "7.5", provenance_pins_everywhere),
    Check("config_digest_deterministic_and_sensitive", "7.5", config_digest_deterministic_and_sensitive),
    Check("evidence_bundle_complete", "11.4", evidence_bundle_complete),
    Check("secrets_absent_from_logs_and_evidence", "10.1", secrets_absent_from_logs_and_evidence),
)
CHECKS: tuple[Check, ...] = LAWS + tuple(
    Check(name, f"port {contract.port}", fn) for contract in CONTRACTS for name, fn in contract.checks())
