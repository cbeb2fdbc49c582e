"""Receipts: IG's append-only evidence of what it decided for every event it was handed."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

import msgspec

from fp_core.model import FrozenModel
from fp_core.offsets import OriginOffset
from fp_core.pins import Identifier


class AdmissionOutcome(StrEnum):
    """IG's answer for one event: admitted, duplicate, quarantined, or a payload-hash anomaly."""

    ADMIT = "ADMIT"
    DUPLICATE = "DUPLICATE"
    QUARANTINE = "QUARANTINE"
    ANOMALY = "ANOMALY"


class QuarantineReason(StrEnum):
    """The closed set of reasons an event does not reach the bus."""

    INVALID_ENVELOPE = "INVALID_ENVELOPE"
    INVALID_PAYLOAD = "INVALID_PAYLOAD"
    UNKNOWN_EVENT_TYPE = "UNKNOWN_EVENT_TYPE"
    FOREIGN_RUN = "FOREIGN_RUN"
    PIN_MISMATCH = "PIN_MISMATCH"
    PAYLOAD_HASH_MISMATCH = "PAYLOAD_HASH_MISMATCH"


class PublishState(StrEnum):
    """Explicit publish state: pending -> published | ambiguous; ambiguous -> published | ambiguous."""

    PENDING = "PENDING"
    PUBLISHED = "PUBLISHED"
    AMBIGUOUS = "AMBIGUOUS"


UNCLASSIFIED = "unclassified"


class Told(Protocol):
    """What a submitter learns of each event it submitted: the outcome and, for an event IG handed to the
    bus, the publish state. A ``Receipt`` tells it; the receipt log holds the whole receipt."""

    @property
    def outcome(self) -> AdmissionOutcome: ...

    @property
    def publish_state(self) -> PublishState | None: ...


class Outcome(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """``Told`` as plain data: what an IG lane's process answers for each event of its share (D64)."""

    outcome: AdmissionOutcome
    publish_state: PublishState | None


class Receipt(FrozenModel):
    """One admission outcome. ``event_class`` is ``unclassified`` when the type could not be resolved;
    ``publish_state``/``published_at`` are set for events IG handed to the bus."""

    receipt_id: Identifier
    platform_run_id: Identifier
    scenario_run_id: Identifier
    event_class: str
    event_id: str
    event_type: str
    outcome: AdmissionOutcome
    reason: QuarantineReason | None = None
    detail: str = ""
    payload_hash: str
    publish_state: PublishState | None = None
    published_at: OriginOffset | None = None


class ReceiptRow(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """A ``Receipt`` as plain data: what IG builds for each event and hands the receipt log (D66). Its values
    are IG's own — pins and ids it derived or validated, screened event fields, enum members, truncated
    text — so it is not validated again per event; ``receipt()`` gives the validated evidence model where a
    receipt leaves IG (``IngestionGate.submit``, the API)."""

    receipt_id: str
    platform_run_id: str
    scenario_run_id: str
    event_class: str
    event_id: str
    event_type: str
    outcome: AdmissionOutcome
    reason: QuarantineReason | None = None
    detail: str = ""
    payload_hash: str
    publish_state: PublishState | None = None
    published_at: OriginOffset | None = None

    def receipt(self) -> Receipt:
        return Receipt(**msgspec.structs.asdict(self))

    @classmethod
    def of(cls, receipt: Receipt) -> ReceiptRow:
        return cls(**dict(receipt))


class PublishRecord(FrozenModel):
    """One publish attempt's settled state for an admitted dedupe tuple (append-only log)."""

    platform_run_id: Identifier
    event_class: str
    event_id: str
    state: PublishState
    published_at: OriginOffset | None = None
    error: str = ""


def untold(receipts: Sequence[ReceiptRow], publishes: Sequence[PublishRecord]) -> list[PublishRecord]:
    """The publish records a batch's receipts do not already tell: all but a PUBLISHED one whose receipt
    says the same tuple and offset (IG passes only these: ambiguous attempts, with their error)."""
    if all(p.state is not PublishState.PUBLISHED for p in publishes):
        return list(publishes)
    told = {(r.event_class, r.event_id, r.published_at) for r in receipts if r.publish_state is PublishState.PUBLISHED}
    return [p for p in publishes
            if p.state is not PublishState.PUBLISHED or (p.event_class, p.event_id, p.published_at) not in told]


def publish_records(receipts: Sequence[ReceiptRow], publishes: Sequence[PublishRecord]) -> list[PublishRecord]:
    """Every publish attempt a batch tells of: each PUBLISHED receipt's, then the records it does not tell."""
    return [PublishRecord(platform_run_id=r.platform_run_id, event_class=r.event_class, event_id=r.event_id,
                          state=PublishState.PUBLISHED, published_at=r.published_at)
            for r in receipts if r.publish_state is PublishState.PUBLISHED] + untold(receipts, publishes)


class QuarantineRecord(FrozenModel):
    """Index entry of a quarantined payload; the payload itself lives at ``object_key``/``line``."""

    quarantine_id: Identifier
    platform_run_id: Identifier
    event_class: str
    event_id: str
    reason: QuarantineReason
    detail: str
    payload_hash: str
    object_key: str
    line: int
    receipt_id: Identifier
