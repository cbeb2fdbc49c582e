"""The admission law (seed 7.1): screen each event, then judge it against the dedupe tuple.

The dedupe tuple is exactly ``(platform_run_id, event_class, event_id)``. The first sighting of a
tuple is ADMIT and is never overwritten; the same tuple with the same ``payload_hash`` is DUPLICATE;
with a different hash it is ANOMALY (quarantined). Invalid, foreign-run and unknown-type events are
QUARANTINE with a reason from the closed set.
"""

from __future__ import annotations

import functools
import operator
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import annotated_types
import msgspec
from pydantic import BaseModel, ValidationError

from fp_core.canonical import sha256_hex
from fp_core.envelope import EventEnvelope
from fp_core.event_class import PAYLOAD_SCHEMAS, EventClass, resolve_event_class
from fp_core.identity import ID_SEPARATOR, DedupeKey, payload_hash, unit_separated
from fp_core.pins import ContextPins
from fp_core.receipts import UNCLASSIFIED, AdmissionOutcome, QuarantineReason


class Candidate(msgspec.Struct, frozen=True, gc=False):
    """An event that passed screening and awaits judgement against the admission index."""

    event_type: str
    event_class: EventClass
    key: DedupeKey
    payload_hash: str
    raw: bytes
    partition_key: str


class Rejection(msgspec.Struct, frozen=True, gc=False):
    """An event screening refused; it becomes a QUARANTINE receipt and a quarantine record."""

    reason: QuarantineReason
    detail: str
    event_class: str
    event_id: str
    event_type: str
    payload_hash: str
    raw: bytes


class Claim(NamedTuple):
    """What the admission index says of a tuple: the first admitted hash, whether this call made
    the claim, whether the first admission is known to be on the bus, and whether an ADMIT receipt
    for it is durable (a claim without one was orphaned by a crash before the receipts were written)."""

    first_payload_hash: str
    claimed_now: bool
    published: bool
    admitted: bool = True


class Verdict(msgspec.Struct, frozen=True, gc=False):
    candidate: Candidate
    outcome: AdmissionOutcome
    reason: QuarantineReason | None
    publish: bool


def printable(text: str, limit: int = 500) -> str:
    """``text`` safe for any store and log line: control characters (NUL included) and lone surrogates
    escaped, length bounded. Details quote untrusted input; this is how they stay storable."""
    out = "".join(c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF else f"\\u{ord(c):04x}" for c in text)
    return out if len(out) <= limit else out[:limit] + "..."


def describe_validation_error(exc: ValidationError, prefix: str = "") -> str:
    """Compact, field-naming description of a validation failure (first three problems)."""
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err["loc"]) or "<root>"
        parts.append(f"{prefix}{loc}: {err['msg']}")
    return printable("; ".join(parts))


_META_OF = {annotated_types.MinLen: "min_length", annotated_types.MaxLen: "max_length",
            annotated_types.Gt: "gt", annotated_types.Le: "le"}


class _Mirror(NamedTuple):
    """A msgspec mirror of a boundary model and the one whole-string check of its text fields: their values
    unit-separated (a value holding the separator is refused, so the joined text splits back into exactly
    the values and each pattern sees exactly its own), matched by the patterns joined the same way."""

    decode: Callable[[bytes], Any]
    texts: Callable[[Any], tuple[str, ...]]
    texts_ok: Callable[[str], object]

    def __call__(self, raw: bytes) -> Any:
        """The decoded struct, or ValueError when a text field breaks its pattern."""
        value = self.decode(raw)
        if not self.texts_ok(unit_separated(self.texts(value), "text values checked by one pattern")):
            raise ValueError("a text field does not match its pattern")
        return value


def _mirror(model: type[BaseModel], nested: Mapping[Any, Any] | None = None) -> _Mirror:
    """The fast path's mirror of ``model``: every field required and no other allowed (msgspec is strict on
    types), lengths and integer bounds as ``msgspec.Meta``, ``nested`` types replaced by theirs, and the text
    patterns joined into ONE regex over the text values (one call instead of one per field).

    It only narrows what the model accepts: patterns use ASCII classes (``\\d`` is ``[0-9]``) and match
    the whole string (pydantic's ``$`` allows no newline before the end either). Only what the mirror can
    state exactly is allowed (text with a pattern, a Literal of text, int, bool); anything else fails here,
    at import, so a schema change can never quietly widen the fast path."""
    nested = nested or {}
    fields: list[tuple[str, Any]] = []
    texts: list[str] = []
    patterns: list[str] = []
    for name, f in model.model_fields.items():
        if f.annotation in nested:
            fields.append((name, nested[f.annotation]))
            continue
        meta: dict[str, Any] = {}
        for m in f.metadata:
            if type(m) in _META_OF:
                meta[_META_OF[type(m)]] = getattr(m, _META_OF[type(m)])
            elif isinstance(getattr(m, "pattern", None), str) and m.pattern[:1] == "^" and m.pattern[-1:] == "$":
                texts.append(name)
                patterns.append(f"(?:{m.pattern[1:-1]})")
            else:
                raise TypeError(f"fast path: {model.__name__}.{name}: constraint {m!r} has no mirror")
        base = f.annotation
        literal = typing.get_origin(base) is typing.Literal and all(isinstance(v, str) for v in typing.get_args(base))
        if not (literal or base in (int, bool) or (base is str and name in texts)):
            raise TypeError(f"fast path: {model.__name__}.{name}: {base!r} is not patterned text, a Literal of "
                            "text, int or bool")
        fields.append((name, typing.Annotated[base, msgspec.Meta(**meta)] if meta else base))
    struct = msgspec.defstruct(f"Wire{model.__name__}", fields, forbid_unknown_fields=True, frozen=True, gc=False)
    if len(texts) < 2:  # attrgetter gives a tuple for two names or more; every boundary model has them
        raise TypeError(f"fast path: {model.__name__} has fewer than two patterned text fields")
    return _Mirror(msgspec.json.Decoder(struct).decode, operator.attrgetter(*texts),
                   re.compile(re.escape(ID_SEPARATOR).join(patterns), re.ASCII).fullmatch)


_WirePins = msgspec.defstruct("WireContextPins", [(n, f.annotation) for n, f in ContextPins.model_fields.items()],
                              forbid_unknown_fields=True, frozen=True, gc=False)
"""The run's pins, compared whole with the expected ones (so their patterns need no check of their own)."""
_decode_wire = _mirror(EventEnvelope, {ContextPins: _WirePins, dict[str, Any]: msgspec.Raw})
_decode_payload: Mapping[str, _Mirror] = {name: _mirror(schema) for name, schema in PAYLOAD_SCHEMAS.items()}
_encode_sorted = msgspec.json.Encoder(order="sorted").encode


@functools.lru_cache(maxsize=64)
def _wire_pins(pins: ContextPins) -> Any:
    return _WirePins(**pins.model_dump())


def _fast_candidate(raw: bytes, expected: ContextPins, class_map: Mapping[str, EventClass]) -> Candidate | None:
    """The candidate a well-formed event of this run is, or None when anything about it is not plainly
    right; then ``screen_reference`` decides, and names what is wrong. Everything this accepts the
    reference accepts with the same values (a property test holds the two to it): the decoders are
    strict, the pins must equal the run's exactly, and every pattern is at most as wide as pydantic's.

    The payload hash is SHA-256 over the payload mirror encoded with sorted keys: the mirror holds only
    pattern-checked ASCII text, text literals, integers and booleans, all of which the canonical encoder
    writes exactly as msgspec does (no escapes, no floats), so the bytes are the canonical ones."""
    try:
        env = _decode_wire(raw)
        cls = class_map.get(env.event_type)
        if cls is None or env.pins != _wire_pins(expected):
            return None
        payload = _decode_payload[cls.payload_schema](env.payload)
        datetime.fromisoformat(env.ts_utc)
    except (msgspec.ValidationError, msgspec.DecodeError, ValueError, UnicodeError):  # bad UTF-8: the last
        return None
    return Candidate(env.event_type, cls, DedupeKey(expected.platform_run_id, cls.name, env.event_id),
                     sha256_hex(_encode_sorted(payload)), raw, payload.merchant_id)


def screen(raw: bytes, expected: ContextPins, class_map: Mapping[str, EventClass]) -> Candidate | Rejection:
    """Validate envelope, pins, class and payload schema. Never raises on bad input.

    A well-formed event of this run takes the fast path (msgspec, ~5x cheaper); anything else is judged
    by the reference (pydantic), whose errors name the field."""
    return _fast_candidate(raw, expected, class_map) or screen_reference(raw, expected, class_map)


def screen_reference(raw: bytes, expected: ContextPins, class_map: Mapping[str, EventClass]) -> Candidate | Rejection:
    """The admission screen as the boundary models define it (pydantic): the authority on every event."""
    raw_hash = sha256_hex(raw)
    try:
        env = EventEnvelope.model_validate_json(raw)
    except ValidationError as exc:
        return Rejection(QuarantineReason.INVALID_ENVELOPE, describe_validation_error(exc),
                         UNCLASSIFIED, raw_hash[:32], "", raw_hash, raw)
    try:
        p_hash = payload_hash(env.payload)
    except (ValueError, UnicodeError):  # NaN, Infinity, 1e400, a lone surrogate: no canonical form
        return Rejection(QuarantineReason.INVALID_PAYLOAD,
                         "payload: holds a non-finite number (NaN, Infinity, 1e400) or unencodable text",
                         UNCLASSIFIED, env.event_id, env.event_type, raw_hash, raw)
    cls = resolve_event_class(env.event_type, class_map)
    class_name = cls.name if cls else UNCLASSIFIED
    if env.pins.platform_run_id != expected.platform_run_id:
        return Rejection(QuarantineReason.FOREIGN_RUN,
                         f"pins.platform_run_id: {env.pins.platform_run_id} is not this run",
                         class_name, env.event_id, env.event_type, p_hash, raw)
    mismatched = expected.foreign_fields(env.pins)
    if mismatched:
        return Rejection(QuarantineReason.PIN_MISMATCH,
                         "pins differ from the run's: " + ", ".join(f"pins.{f}" for f in mismatched),
                         class_name, env.event_id, env.event_type, p_hash, raw)
    if cls is None:
        return Rejection(QuarantineReason.UNKNOWN_EVENT_TYPE,
                         f"event_type: {env.event_type!r} is not in the pinned class map",
                         UNCLASSIFIED, env.event_id, env.event_type, p_hash, raw)
    schema: type[BaseModel] = PAYLOAD_SCHEMAS[cls.payload_schema]
    try:
        schema.model_validate(env.payload, strict=True)  # what IG admits is exactly what RTDL decodes
    except ValidationError as exc:
        return Rejection(QuarantineReason.INVALID_PAYLOAD, describe_validation_error(exc, "payload."),
                         cls.name, env.event_id, env.event_type, p_hash, raw)
    key = DedupeKey(env.pins.platform_run_id, cls.name, env.event_id)
    return Candidate(env.event_type, cls, key, p_hash, raw, str(env.payload["merchant_id"]))


class Sighting(NamedTuple):
    """A tuple's first sighting in a batch: its payload hash, and the receipt that admits it if the sighting
    claims the tuple (the claim names that receipt, so a store finds the receipt by its tuple, D65)."""

    payload_hash: str
    receipt_id: str


def first_sightings(candidates: Sequence[Candidate], receipt_ids: Sequence[str]) -> dict[DedupeKey, Sighting]:
    """Each tuple's first sighting in this batch (``receipt_ids``: the candidates' receipts, in order): what
    IG asks the index to claim."""
    firsts: dict[DedupeKey, Sighting] = {}
    for c, receipt_id in zip(candidates, receipt_ids, strict=True):
        if c.key not in firsts:
            firsts[c.key] = Sighting(c.payload_hash, receipt_id)
    return firsts


def judge(candidates: Sequence[Candidate], claims: Mapping[DedupeKey, Claim]) -> list[Verdict]:
    """Judge a batch in order, given the index's answer for each tuple's first sighting.

    ``publish`` is set for every ADMIT, and for the first DUPLICATE of a tuple whose first admission
    is not known to be on the bus (an idempotent re-publish resolves ambiguity). A tuple claimed by a
    submission that died before its receipts were durable has no ADMIT receipt: its first same-hash
    sighting now is the ADMIT (re-published; RTDL decides an event id once, whatever its copies).
    """
    verdicts: list[Verdict] = []
    seen: set[DedupeKey] = set()
    scheduled: set[DedupeKey] = set()
    for c in candidates:
        claim = claims[c.key]
        first_in_batch = c.key not in seen
        seen.add(c.key)
        orphan = not claim.claimed_now and not claim.admitted and c.payload_hash == claim.first_payload_hash
        if first_in_batch and (claim.claimed_now or orphan):
            verdicts.append(Verdict(c, AdmissionOutcome.ADMIT, None, True))
            scheduled.add(c.key)
        elif c.payload_hash == claim.first_payload_hash:
            republish = not claim.published and c.key not in scheduled
            if republish:
                scheduled.add(c.key)
            verdicts.append(Verdict(c, AdmissionOutcome.DUPLICATE, None, republish))
        else:
            verdicts.append(Verdict(c, AdmissionOutcome.ANOMALY, QuarantineReason.PAYLOAD_HASH_MISMATCH, False))
    return verdicts
