"""IG, the ingestion gate: screen, claim, judge, publish, quarantine, and write receipts per batch.

Order of durable effects per batch: the admission claim, then the bus publish, then quarantine
payloads and index, then receipts with the settled publish state (one transaction). A crash between
any two leaves a state the next submission of the same batch resolves: a batch whose receipts are
durable is answered with those receipts and nothing else happens; a claimed tuple without an ADMIT
receipt is admitted (and re-published) by its next sighting; the quarantine object already written is
accepted when its bytes are the same.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from fp_core.admission import Candidate, Rejection, Verdict, first_sightings, judge, screen
from fp_core.errors import ObjectExists
from fp_core.event_class import EventClass
from fp_core.identity import PositionIds, derive_id
from fp_core.pins import ContextPins
from fp_core.ports import (
    NO_TRACE,
    RARE_EVENT_LINES,
    AdmissionIndex,
    BusProducer,
    Delivery,
    Log,
    ObjectStore,
    OutboundMessage,
    QuarantineIndex,
    ReceiptLog,
    Tracer,
)
from fp_core.publish import settle
from fp_core.receipts import AdmissionOutcome, PublishRecord, PublishState, QuarantineRecord, Receipt, ReceiptRow


class Share(NamedTuple):
    """One lane's part of a submission: the lane and the positions in the submission of its events."""

    lane: int
    positions: Sequence[int]


def receipt_ids_of(platform_run_id: str, submission_id: str) -> PositionIds:
    """A submission's receipt ids, by the position of each event in it (a lane's share keeps them, D64/D65)."""
    return PositionIds("receipt", platform_run_id, submission_id)


def quarantine_key(platform_run_id: str, submission_id: str) -> str:
    return f"quarantine/{platform_run_id}/{submission_id}.jsonl"


@dataclass
class IngestionGate:
    pins: ContextPins
    class_map: Mapping[str, EventClass]
    index: AdmissionIndex
    receipts: ReceiptLog
    quarantine_index: QuarantineIndex
    objects: ObjectStore
    producer: BusProducer
    log: Log
    tracer: Tracer = NO_TRACE

    def submit(self, submission_id: str, raws: Sequence[bytes], share: Share | None = None) -> list[Receipt]:
        """Admit one batch; returns one receipt per input, in input order. Never raises on bad input.

        ``share``: ``raws`` are one lane's share of the submission (``fp_core.lanes``), at those positions of
        it: their receipts are the ones the whole submission gives them, and their quarantined events go to
        an object of the lane's own."""
        return [row.receipt() for row in self.admit(submission_id, raws, share)]

    def admit(self, submission_id: str, raws: Sequence[bytes], share: Share | None = None) -> list[ReceiptRow]:
        """``submit`` with the receipts as the plain data the receipt log was given (WSP and IG's lanes read
        only what they tell; D66)."""
        with self.tracer.span("ig.batch", platform_run_id=self.pins.platform_run_id,
                              scenario_run_id=self.pins.scenario_run_id, submission_id=submission_id,
                              events=len(raws)):
            return self._submit(submission_id, raws, share)

    def _submit(self, submission_id: str, raws: Sequence[bytes], share: Share | None) -> list[ReceiptRow]:
        run = self.pins.platform_run_id
        receipt_id_at = receipt_ids_of(run, submission_id)
        receipt_ids = [receipt_id_at(pos) for pos in (share.positions if share else range(len(raws)))]
        if receipt_ids and self.receipts.stored(run, receipt_ids[:1]):
            # Receipts of one submission (or share) are written in one transaction: the first one stands for all.
            stored = self.receipts.stored(run, receipt_ids)
            if len(stored) == len(receipt_ids):
                self.log.info("ig.resubmitted", platform_run_id=run, submission_id=submission_id,
                              receipts=len(stored))
                return [ReceiptRow.of(stored[i]) for i in receipt_ids]
        screened = [screen(raw, self.pins, self.class_map) for raw in raws]
        paired = [(rid, s) for rid, s in zip(receipt_ids, screened, strict=True) if isinstance(s, Candidate)]
        candidates = [c for _rid, c in paired]
        firsts = first_sightings(candidates, [rid for rid, _c in paired])
        claims = self.index.claim(firsts) if candidates else {}
        # The receipts the claims made now name: each its tuple's first sighting here, so its ADMIT (judge).
        claimants = {firsts[key].receipt_id for key, claim in claims.items() if claim.claimed_now}
        verdict_of = dict(zip((id(c) for c in candidates), judge(candidates, claims), strict=True))
        to_publish = [v for v in verdict_of.values() if v.publish]
        deliveries = self.producer.publish([
            OutboundMessage(v.candidate.event_class.topic, v.candidate.partition_key.encode(), v.candidate.raw)
            for v in to_publish])
        delivered = {id(v.candidate): d for v, d in zip(to_publish, deliveries, strict=True)}

        receipts: list[ReceiptRow] = []
        publishes: list[PublishRecord] = []
        quarantined: list[tuple[ReceiptRow, bytes, str]] = []
        for receipt_id, item in zip(receipt_ids, screened, strict=True):
            if isinstance(item, Rejection):
                receipt = self._rejected(receipt_id, item)
                quarantined.append((receipt, item.raw, item.detail))
            else:
                verdict = verdict_of[id(item)]
                receipt, publish = self._judged(receipt_id, verdict, delivered.get(id(item)))
                if publish is not None:
                    publishes.append(publish)
                if verdict.outcome is AdmissionOutcome.ANOMALY:
                    quarantined.append((receipt, item.raw, receipt.detail))
            receipts.append(receipt)
        if quarantined:
            self._quarantine(submission_id if share is None else f"{submission_id}-lane{share.lane}", quarantined)
            for receipt, _raw, _detail in quarantined[:RARE_EVENT_LINES]:  # rare events: a line each (bounded)
                self.log.warning("ig.quarantined", platform_run_id=run, scenario_run_id=self.pins.scenario_run_id,
                                 event_class=receipt.event_class, event_id=receipt.event_id,
                                 outcome=receipt.outcome.value, reason=str(receipt.reason), detail=receipt.detail)
        self.receipts.append(receipts, publishes, claimants)
        ambiguous = len(publishes)  # a success is told by its receipt: only ambiguous attempts have a record
        if ambiguous:
            self.log.warning("ig.publish_ambiguous", platform_run_id=run, submission_id=submission_id,
                             ambiguous=ambiguous)
        return receipts

    def _rejected(self, receipt_id: str, r: Rejection) -> ReceiptRow:
        return ReceiptRow(receipt_id=receipt_id, platform_run_id=self.pins.platform_run_id,
                          scenario_run_id=self.pins.scenario_run_id, event_class=r.event_class,
                          event_id=r.event_id, event_type=r.event_type[:128], outcome=AdmissionOutcome.QUARANTINE,
                          reason=r.reason, detail=r.detail[:500], payload_hash=r.payload_hash)

    def _judged(self, receipt_id: str, v: Verdict, delivery: Delivery | None
                ) -> tuple[ReceiptRow, PublishRecord | None]:
        c: Candidate = v.candidate
        publish: PublishRecord | None = None
        state = None
        if delivery is not None:
            state = settle(delivery.origin is not None, delivery.error)
            if state is not PublishState.PUBLISHED:  # a success is told by its receipt (ReceiptLog.append)
                publish = PublishRecord(
                    platform_run_id=c.key.platform_run_id, event_class=c.key.event_class, event_id=c.key.event_id,
                    state=state, published_at=delivery.origin, error=(delivery.error or "")[:300])
        detail = "payload_hash differs from the first admission; first admission kept" if v.reason else ""
        receipt = ReceiptRow(
            receipt_id=receipt_id, platform_run_id=c.key.platform_run_id, scenario_run_id=self.pins.scenario_run_id,
            event_class=c.key.event_class, event_id=c.key.event_id, event_type=c.event_type,
            outcome=v.outcome, reason=v.reason, detail=detail, payload_hash=c.payload_hash, publish_state=state,
            published_at=delivery.origin if delivery else None)
        return receipt, publish

    def _quarantine(self, submission_id: str, items: list[tuple[ReceiptRow, bytes, str]]) -> None:
        run = self.pins.platform_run_id
        key = quarantine_key(run, submission_id)
        lines = [json.dumps({"receipt_id": r.receipt_id, "reason": r.reason, "detail": detail,
                             "raw_b64": base64.b64encode(raw).decode()}, sort_keys=True)
                 for r, raw, detail in items]
        data = ("\n".join(lines) + "\n").encode()
        try:
            self.objects.put(key, data)
        except ObjectExists:
            # Written by an attempt of this submission that died before its receipts: the same bytes are
            # that attempt's object; different ones (the claims changed in between) get their own key.
            if self.objects.get(key) != data:
                key = quarantine_key(run, f"{submission_id}-{hashlib.sha256(data).hexdigest()[:16]}")
                self.objects.put(key, data, overwrite=True)
        self.quarantine_index.record([
            QuarantineRecord(quarantine_id=derive_id("quarantine", r.receipt_id), platform_run_id=run,
                             event_class=r.event_class, event_id=r.event_id,
                             reason=r.reason, detail=r.detail, payload_hash=r.payload_hash, object_key=key,
                             line=line, receipt_id=r.receipt_id)
            for line, (r, _raw, _d) in enumerate(items) if r.reason is not None])
