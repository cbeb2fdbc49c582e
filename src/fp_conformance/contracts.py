"""Per-port contract classes: what every adapter of a port must do, written once and run against every
registered adapter set through its ports only. Each public method is one check; it raises on a
violation and returns a one-line detail when the contract holds."""

from __future__ import annotations

import threading
from collections.abc import Callable

from fp_conformance.context import ConformanceContext
from fp_core import topics
from fp_core.admission import Sighting
from fp_core.context import ContextItem, ContextKind
from fp_core.decisions import AuditRecord, DecisionRecord, audit_record, bundle_ref
from fp_core.degrade import READY
from fp_core.errors import NotFound, ObjectExists
from fp_core.identity import DedupeKey
from fp_core.learning import BundleEvent, RegistryRecord, active_bundle, registry_view
from fp_core.offsets import OriginOffset
from fp_core.ports import BusRecord, OutboundMessage
from fp_core.receipts import AdmissionOutcome, PublishState, ReceiptRow
from fp_core.scoring import DEFAULT_BUNDLE, FEATURES, ActionType

CheckFn = Callable[[ConformanceContext], str]


class PortContract:
    """Base of the contract classes: ``checks()`` lists ``(name, function)`` for each public method."""

    port: str = ""

    @classmethod
    def checks(cls) -> list[tuple[str, CheckFn]]:
        return [(f"{name}", getattr(cls, name)) for name in cls.__dict__
                if not name.startswith("_") and callable(getattr(cls, name)) and name != "checks"]


class ObjectStoreContract(PortContract):
    port = "ObjectStore"

    @staticmethod
    def object_store_write_once(ctx: ConformanceContext) -> str:
        objects = ctx.ports.objects
        key = f"evidence/conformance/{ctx.session}/marker.json"
        objects.put(key, b"first")
        try:
            objects.put(key, b"second")
            raise AssertionError("an evidence key was overwritten")
        except ObjectExists:
            pass
        assert objects.get(key) == b"first"
        objects.put(key, b"third", overwrite=True)
        assert objects.get(key) == b"third", "an explicit overwrite was not applied"
        assert objects.exists(key) and not objects.exists(key + ".nope")
        try:
            objects.get(key + ".nope")
            raise AssertionError("a missing key did not raise NotFound")
        except NotFound:
            pass
        assert objects.list(key.rsplit("/", 1)[0]) == [key]
        return f"write-once unless told, NotFound, exists and list hold at {objects.uri(key)}"


class AdmissionIndexContract(PortContract):
    port = "AdmissionIndex"

    @staticmethod
    def admission_index_first_writer_wins(ctx: ConformanceContext) -> str:
        keys = [DedupeKey(ctx.run_id("race"), "traffic_fraud", f"{i:032x}") for i in range(100)]
        winners: dict[DedupeKey, list[int]] = {k: [] for k in keys}
        seen_hashes: dict[DedupeKey, set[str]] = {k: set() for k in keys}
        errors: list[BaseException] = []

        def writer(n: int) -> None:
            try:
                with ctx.other_container() as c:
                    sightings = {k: Sighting(f"h{n}", f"r{n}-{i}") for i, k in enumerate(keys)}
                    for k, claim in c.adapters.admission_index().claim(sightings).items():
                        seen_hashes[k].add(claim.first_payload_hash)
                        if claim.claimed_now:
                            winners[k].append(n)
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        firsts = ctx.ports.admission_index.first_hashes(keys)
        for k in keys:
            assert len(winners[k]) == 1 and firsts[k] == f"h{winners[k][0]}", k
            assert seen_hashes[k] == {firsts[k]}, f"a writer was told another first hash for {k}"
        return "3 concurrent writers over 100 tuples: exactly one claim each, every writer told its hash"

    @staticmethod
    def admission_index_batches_mixing_new_and_claimed_tuples(ctx: ConformanceContext) -> str:
        keys = [DedupeKey(ctx.run_id("mixed"), "traffic_fraud", f"{i:032x}") for i in range(100)]
        index = ctx.ports.admission_index

        first: dict[DedupeKey, str] = {}

        def claimed_now(batch: list[DedupeKey], h: str) -> set[int]:
            claims = index.claim({k: Sighting(h, f"{h}-{keys.index(k)}") for k in batch})
            assert set(claims) == set(batch), "a claim answers for every tuple it was given"
            for k, claim in claims.items():
                assert claim.first_payload_hash == first.setdefault(k, h), f"{k}: not the first writer's hash"
            return {keys.index(k) for k, claim in claims.items() if claim.claimed_now}

        assert claimed_now(keys[:50], "h1") == set(range(50))  # all new
        assert claimed_now(keys[25:75], "h2") == set(range(50, 75))  # half claimed before: the rest only
        assert claimed_now(keys[75:], "h3") == set(range(75, 100))  # all new again, after a conflicting batch
        assert claimed_now(keys[75:], "h4") == set()  # all claimed
        firsts = index.first_hashes(keys)
        assert [firsts[k] for k in keys] == ["h1"] * 50 + ["h2"] * 25 + ["h3"] * 25
        return "batches of new, half-claimed and claimed tuples: each tuple claimed once, its first hash kept"


class ReceiptLogContract(PortContract):
    port = "ReceiptLog+AdmissionIndex"

    @staticmethod
    def receipts_found_by_event_however_admitted(ctx: ConformanceContext) -> str:
        """Every receipt of an event is found by its event id, whether it claimed the tuple (a claimant, which
        a store may find through the claim) or not: a duplicate, an anomaly, and a re-admission of a tuple
        whose claiming batch died before its receipts (its claim names a receipt never written)."""
        run = ctx.run_id("by-event")
        index, log = ctx.ports.admission_index, ctx.ports.receipts
        e1, e2, e3 = (DedupeKey(run, "traffic_fraud", f"{i:032x}") for i in range(1, 4))
        at = OriginOffset(topic="fp.bus.traffic.fraud.v1", partition=0, offset=1)

        def receipt(rid: str, key: DedupeKey, outcome: AdmissionOutcome, published: bool) -> ReceiptRow:
            return ReceiptRow(receipt_id=rid, platform_run_id=run, scenario_run_id="sr", event_class=key.event_class,
                              event_id=key.event_id, event_type="transaction_event", outcome=outcome,
                              payload_hash="h", publish_state=PublishState.PUBLISHED if published else None,
                              published_at=at if published else None)

        claims = index.claim({e1: Sighting("h", "r1"), e2: Sighting("h", "r2"), e3: Sighting("h", "r3-lost")})
        assert all(c.claimed_now for c in claims.values()), claims
        log.append([receipt("r1", e1, AdmissionOutcome.ADMIT, True), receipt("r2", e2, AdmissionOutcome.ADMIT, True)],
                   [], {"r1", "r2"})
        again = index.claim({e1: Sighting("h", "r4"), e3: Sighting("h", "r5")})
        assert (again[e1].admitted, again[e1].published) == (True, True), again
        assert (again[e3].admitted, again[e3].published) == (False, False), "r3-lost was never written"
        log.append([receipt("r4", e1, AdmissionOutcome.DUPLICATE, False),
                    receipt("r5", e3, AdmissionOutcome.ADMIT, True)], [])  # r5: a re-admission, no claimant
        found = log.for_events(run, [e1.event_id, e3.event_id])
        assert [(r.receipt_id, r.outcome) for r in found] == [
            ("r1", AdmissionOutcome.ADMIT), ("r4", AdmissionOutcome.DUPLICATE), ("r5", AdmissionOutcome.ADMIT)], found
        third = index.claim({e3: Sighting("h", "r6")})
        assert (third[e3].admitted, third[e3].published) == (True, True), third
        assert log.unresolved_publishes(run) == 0
        return "claimant, duplicate and re-admission receipts each found once by event; the claims tell them"


class BusContract(PortContract):
    port = "BusProducer+BusConsumer"

    @staticmethod
    def bus_delivery_commit_resume(ctx: ConformanceContext) -> str:
        key = ctx.run_id("bus").encode()
        deliveries = ctx.ports.producer.publish(
            [OutboundMessage(topics.CONTROL, key, b'{"kind":"PING","n":%d}' % i) for i in range(10)])
        origins = [d.origin for d in deliveries]
        assert all(origins) and all(d.error is None for d in deliveries), deliveries
        first = origins[0]
        assert first is not None
        tp = (first.topic, first.partition)
        group = f"fp-conformance-bus-{ctx.session}"
        c1 = ctx.ports.consumer(group)
        try:
            c1.assign({tp: first.offset})
            got: list[BusRecord] = []
            while len(got) < 10:
                got.extend(c1.poll_batch(10, 1.0))
            assert [r.origin for r in got[:10]] == origins, "delivery offsets are not where the records sit"
            c1.commit({tp: first.offset + 4})  # only the first four made durable
        finally:
            c1.close()
        c2 = ctx.ports.consumer(group)
        try:
            committed = c2.committed([tp])[tp]
            assert committed == first.offset + 4, committed
            c2.assign({tp: committed})
            again: list[BusRecord] = []
            while len(again) < 6:
                again.extend(c2.poll_batch(10, 1.0))
            assert [r.origin for r in again[:6]] == origins[4:]
        finally:
            c2.close()
        return "delivery offsets are where records sit; the next consumer resumes exactly at the commit"


class JoinStoreContract(PortContract):
    port = "JoinStore"

    @staticmethod
    def join_store_round_trip(ctx: ConformanceContext) -> str:
        run = ctx.run_id("join")
        o = OriginOffset(topic="t", partition=0, offset=0)
        items = [ContextItem(kind=ContextKind.ENTITIES, key=f"a{i}", ts_ms=1000 + 100 * i, payload={"card_id": "k"},
                             origin=o) for i in range(5)]
        anchor = ContextItem(kind=ContextKind.FLOW_ANCHOR, key="f1", ts_ms=5, payload={"arrival_id": "a1"}, origin=o)
        ctx.ports.join_store.put(run, [*items, anchor])
        got = ctx.ports.join_store.get(run, [(ContextKind.FLOW_ANCHOR, "f1"), (ContextKind.ENTITIES, "a3"),
                                             (ContextKind.ARRIVAL, "zz")])
        assert got == {(ContextKind.FLOW_ANCHOR, "f1"): anchor, (ContextKind.ENTITIES, "a3"): items[3]}, got
        velocity = ctx.ports.join_store.card_velocity(run, [("k", 1250), ("k", 1000), ("k", 99_999), ("x", 1300)],
                                                      1000)
        assert velocity == [3, 0, 0, 0], velocity
        assert ctx.ports.join_store.get(run + "-other", [(ContextKind.FLOW_ANCHOR, "f1")]) == {}
        assert ctx.ports.join_store.positions(run) == {}
        ctx.ports.join_store.put(run, items[:1], {("t", 0): 7, ("t", 1): 3})
        ctx.ports.join_store.put(run, items[1:2], {("t", 0): 9})
        assert ctx.ports.join_store.positions(run) == {("t", 0): 9, ("t", 1): 3}
        return ("context items round-trip per run; event-time card counters count only earlier sightings; "
                "the positions written with the state read back")


class RegistryLogContract(PortContract):
    port = "RegistryLog"

    @staticmethod
    def registry_log_append_only_in_order(ctx: ConformanceContext) -> str:
        """Registered and retired records of a bundle of this session only: the active bundle is untouched."""
        log = ctx.ports.registry_log
        bundle = DEFAULT_BUNDLE.model_copy(update={"bundle_id": f"conformance-{ctx.session}"})
        records = [RegistryRecord(record_id=f"{bundle.bundle_id}:{event.value}", bundle_id=bundle.bundle_id,
                                  event=event, recorded_at_ms=i, bundle=bundle if i == 0 else None)
                   for i, event in enumerate((BundleEvent.REGISTERED, BundleEvent.RETIRED))]
        before = log.records()
        assert log.append(records) == 2 and log.append(records) == 0, "a known record_id was appended again"
        after = log.records()
        assert after[: len(before)] == before, "earlier records changed or moved"
        mine = [r for r in after if r.bundle_id == bundle.bundle_id]
        assert mine == records, mine
        assert registry_view(after)[bundle.bundle_id][1].status == "retired"
        assert active_bundle(after) == active_bundle(before)
        return "records append once, read back in order, earlier ones unchanged; the active bundle is a fold"


class DecisionLedgerContract(PortContract):
    port = "DecisionLedger"

    @staticmethod
    def ledger_records_once_and_acts_once(ctx: ConformanceContext) -> str:
        """A batch's audit records are readable after ``record``; recording them again (a batch redone after
        a crash) appends and executes nothing; a batch mixing old and new decisions acts on the new only."""
        pins = ctx.pins(ctx.run_id("ledger"))
        run = pins.platform_run_id

        def audit(i: int) -> AuditRecord:
            return audit_record(DecisionRecord(
                decision_id=f"{run}-d{i}", pins=pins, event_id=f"e{i}", txn_id=f"t{i}", flow_id=f"f{i}",
                merchant_id="m", event_ts_ms=i, bundle=bundle_ref(DEFAULT_BUNDLE), policy_id=pins.policy_id,
                degrade=READY, features=dict.fromkeys(FEATURES, 0.0), score=0.5,
                action=ActionType.DECLINE if i % 2 else ActionType.APPROVE, card_id=None, origin_offsets=()))

        first, later = [audit(i) for i in range(3)], audit(3)
        ledger = ctx.ports.decision_ledger
        acted = ledger.record(first)
        assert sorted(o.idempotency_key for o in acted) == sorted(r.intent.idempotency_key for r in first), acted
        assert ledger.record(first) == [], "a batch recorded again acted again"
        assert [o.idempotency_key for o in ledger.record([first[0], later])] == [later.intent.idempotency_key]
        fresh = [audit(i) for i in range(4, 7)]  # new batches after redone ones act on every decision
        assert [o.idempotency_key for o in ledger.record(fresh[:2])] == [r.intent.idempotency_key for r in fresh[:2]]
        assert [o.idempotency_key for o in ledger.record(fresh[2:])] == [fresh[2].intent.idempotency_key]
        stored = list(ctx.ports.audit_log.scan(run))
        assert stored == sorted([*first, later, *fresh], key=lambda r: r.audit_id), stored
        documents = [AuditRecord.model_validate_json(d) for d in ctx.ports.audit_log.documents(run)]
        assert documents == stored, "the stored documents are not the records, in audit_id order"
        counts = ctx.ports.action_log.outcome_counts(run)
        assert counts == {"intents": 7, "outcomes": 7, "duplicate_outcomes": 0}, counts
        return ("audit records (and their stored documents) and actions recorded once per decision, however "
                "often a batch is recorded")


CONTRACTS: tuple[type[PortContract], ...] = (ObjectStoreContract, AdmissionIndexContract, ReceiptLogContract,
                                             BusContract,
                                             JoinStoreContract, RegistryLogContract, DecisionLedgerContract)
