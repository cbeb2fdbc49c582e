"""The hot paths' fast forms agree with their references: ``screen`` (msgspec first, pydantic when anything
is off) gives the same Candidate or Rejection as ``screen_reference`` on every input, and the cached
``iso_utc`` the same text as ``datetime.isoformat``; WSP's spliced sealed payloads give the envelopes (or, for
any payload, the parsed payload and its hash) that encoding the decoded payload gives."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Annotated, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field

from fp_adapters.memory.stores import MemObjectStore
from fp_adapters.memory.substrate import MemorySubstrate
from fp_core.admission import Candidate, _fast_candidate, _mirror, screen, screen_reference
from fp_core.envelope import iso_utc
from fp_core.errors import InvalidInput
from fp_core.event_class import FRAUD_CLASS_MAP
from fp_core.identity import payload_hash
from fp_core.model import FrozenModel
from fp_core.receipts import AdmissionOutcome, Outcome, PublishState
from fp_core.services.sr import seal_world, stream_view_line
from fp_core.services.wsp import Encoder, Outgoing, StreamReport, read_stream_view
from fp_core.world import SealedPayload, StreamRow, generate_world
from tests.unit.test_admission import PINS, envelope
from tests.unit.test_canonical_identity import json_values

GOOD: dict[str, Any] = json.loads(envelope())
ROWS = [r for r in generate_world(3, 400) if isinstance(r, StreamRow)]

# values a hostile producer might put anywhere: near-misses of every pattern and type
TRICKY = st.sampled_from([
    "", "\n", "abc\n", "a\x1fb", "\x1f", "GB\n", "gb", "G B", "٣", "2026-01-01T00:00:00.000+00:00\n",
    "2026-01-01t00:00:00Z",
    "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.1234567+00:00", "٢٠٢٦-01-01T00:00:00Z", "0" * 31, "0" * 32 + "\n",
    "A" * 32, "a" * 129, "fp.event.v1", "traffic_fraud", "transaction", "web", "pos", "x\u0000y", "\ud800",
    True, False, None, 0, 1, -1, 7, 7.0, 500, 500.0, 2**63, 2**70, 1e308, 0.1, [], {}, [1], {"a": 1},
])
VALUES = TRICKY | st.text(max_size=12) | st.integers() | st.floats(allow_nan=False, allow_infinity=False)


def _mutate(doc: dict[str, Any], data: st.DataObject) -> bytes:
    where = data.draw(st.sampled_from(["top", "pins", "payload"]))
    target = doc[where] if isinstance(doc.get(where), dict) else doc
    action = data.draw(st.sampled_from(["set", "add", "drop"]))
    if action == "add":
        target[data.draw(st.sampled_from(["extra", "producer", "seed", "x"]) | st.text(max_size=4))] = \
            data.draw(VALUES)
    elif action == "drop" and target:
        target.pop(data.draw(st.sampled_from(sorted(target))))
    elif target:
        target[data.draw(st.sampled_from(sorted(target)))] = data.draw(VALUES)
    text = json.dumps(doc, ensure_ascii=data.draw(st.booleans()))
    if data.draw(st.booleans()):  # a duplicated key: the last one counts, for both parsers
        text = text.replace('"producer": "wsp"', '"producer": "x", "producer": "wsp"')
    if data.draw(st.booleans()):  # ... in the payload too, where it changes the hash if the wrong one counts
        text = text.replace('"merchant_id": ', '"merchant_id": "M-other", "merchant_id": ', 1)
    return text.encode("utf-8", "surrogatepass")


@settings(max_examples=1_500, deadline=None)
@given(st.sampled_from(range(len(ROWS))), st.data())
def test_fast_screen_agrees_with_the_reference_on_mutated_events(index: int, data: st.DataObject) -> None:
    doc = json.loads(Encoder(PINS, FRAUD_CLASS_MAP)(ROWS[index]).raw)
    for _ in range(data.draw(st.integers(1, 3))):
        raw = _mutate(doc, data)
        doc = json.loads(raw) if data.draw(st.booleans()) else doc
        assert screen(raw, PINS, FRAUD_CLASS_MAP) == screen_reference(raw, PINS, FRAUD_CLASS_MAP)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_fast_screen_agrees_with_the_reference_on_any_bytes(raw: bytes) -> None:
    assert screen(raw, PINS, FRAUD_CLASS_MAP) == screen_reference(raw, PINS, FRAUD_CLASS_MAP)


def test_well_formed_events_take_the_fast_path_with_the_reference_result() -> None:
    encode = Encoder(PINS, FRAUD_CLASS_MAP)
    raws = [encode(row).raw for row in ROWS] + [envelope()]
    for raw in raws:
        fast = _fast_candidate(raw, PINS, FRAUD_CLASS_MAP)
        assert isinstance(fast, Candidate)
        assert fast == screen_reference(raw, PINS, FRAUD_CLASS_MAP)
    # pretty-printed, keys reordered: still the fast path, still the same candidate
    spaced = json.dumps(dict(reversed(list(GOOD.items()))), indent=2).encode()
    assert _fast_candidate(spaced, PINS, FRAUD_CLASS_MAP) == screen_reference(spaced, PINS, FRAUD_CLASS_MAP)


def test_a_payload_field_the_mirror_cannot_state_exactly_fails_at_import() -> None:
    class Floaty(FrozenModel):
        ref: Annotated[str, Field(pattern=r"^[a-z]+$")]
        other: Annotated[str, Field(pattern=r"^[a-z]+$")]
        amount: float

    class FreeText(FrozenModel):
        ref: Annotated[str, Field(pattern=r"^[a-z]+$")]
        other: Annotated[str, Field(pattern=r"^[a-z]+$")]
        note: str

    for model in (Floaty, FreeText):
        with pytest.raises(TypeError, match="fast path"):
            _mirror(model)


def test_the_mirror_checks_each_text_value_against_its_own_pattern() -> None:
    class Two(FrozenModel):
        a: Annotated[str, Field(pattern=r"^[a-z\x1f]+$")]  # a pattern that admits the separator itself
        b: Annotated[str, Field(pattern=r"^[0-9]+$")]

    mirror = _mirror(Two)
    assert mirror(b'{"a":"x","b":"1"}') == mirror.decode(b'{"a":"x","b":"1"}')
    # b's value is not digits, but the joined text "x<sep><sep>1" would match the joined patterns
    for raw in (b'{"a":"x","b":"\\u001f1"}', b'{"a":"x","b":"1\\n"}', b'{"a":"x1","b":"1"}'):
        with pytest.raises(ValueError, match="pattern"):
            mirror(raw)


@settings(max_examples=3_000, deadline=None)
@given(st.integers(-2_208_988_800_000, 7_258_118_400_000))  # 1900..2200: where the float reference is exact
def test_iso_utc_is_isoformat_at_millisecond_precision(ts_ms: int) -> None:
    reference = datetime.fromtimestamp(ts_ms / 1000, tz=UTC).isoformat(timespec="milliseconds")
    assert iso_utc(ts_ms) == reference


ROWS_2000 = [r for r in generate_world(3, 2000) if isinstance(r, StreamRow)]


def test_a_sealed_view_streams_the_bytes_its_decoded_rows_would() -> None:
    """WSP splices each sealed payload as it was sealed; for the world's rows those are the very bytes the
    decoded payload would encode to, so every envelope is unchanged."""
    objects = MemObjectStore(MemorySubstrate(), "sealed-view")
    manifest = seal_world(objects, 3, 2000, part_rows=700)
    read = list(read_stream_view(objects, manifest.stream_view_keys()))
    assert len(read) == 2000 and all(type(r.payload) is SealedPayload for r in read)
    assert read == ROWS_2000  # a sealed payload is the mapping it holds
    encode = Encoder(PINS, FRAUD_CLASS_MAP)
    assert [encode(r) for r in read] == [encode(StreamRow(r.event_type, r.natural_key, r.ts_ms, dict(r.payload)))
                                         for r in read]


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.text(max_size=6), json_values, max_size=6))
def test_a_spliced_payload_parses_and_hashes_as_the_encoded_one(payload: dict[str, Any]) -> None:
    """Any payload, sealed as SR seals it (sorted keys, ASCII escapes): the envelope with the sealed bytes
    spliced in carries the same payload, with the same payload_hash, as the one with the payload encoded."""
    row = StreamRow("transaction", "t1", 1_767_225_600_000, payload)
    objects = MemObjectStore(MemorySubstrate(), "any-payload")
    objects.put("view", stream_view_line(row) + b"\n")
    (read,) = read_stream_view(objects, ["view"])
    encode = Encoder(PINS, FRAUD_CLASS_MAP)
    spliced, encoded = json.loads(encode(read).raw)["payload"], json.loads(encode(row).raw)["payload"]
    assert spliced == encoded == dict(read.payload) == payload
    assert payload_hash(spliced) == payload_hash(encoded)


@pytest.mark.parametrize(("line", "problem"), [
    (b'{"event_type":"transaction","natural_key":"t1","payload":{}}', "ts_ms"),
    (b'{"event_type":"transaction","natural_key":"t1","ts_ms":"soon","payload":{}}', "ts_ms"),
    (b'{"event_type":"transaction", not json', "JSON"),
])
def test_a_line_of_the_view_that_is_not_a_row_is_named(line: bytes, problem: str) -> None:
    objects = MemObjectStore(MemorySubstrate(), "bad-view")
    objects.put("view/part-00000.jsonl", b'{"event_type":"transaction","natural_key":"t0","ts_ms":1,"payload":{}}\n'
                + line + b"\n")
    with pytest.raises(InvalidInput, match=rf"stream_view view/part-00000.jsonl line 2: .*{problem}"):
        list(read_stream_view(objects, ["view/part-00000.jsonl"]))


def test_a_sealed_payload_that_is_not_an_object_says_so_when_read() -> None:
    assert SealedPayload(b'{"a":1}')["a"] == 1 and len(SealedPayload(b"{}")) == 0
    with pytest.raises(AttributeError):
        SealedPayload(b"{}").json = b"[]"  # type: ignore[misc]
    with pytest.raises(ValueError, match="payload: a JSON object expected, not list"):
        SealedPayload(b"[1]")["a"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["traffic_fraud", "context_flow_anchor", "unclassified"]),
                          st.sampled_from(list(AdmissionOutcome)),
                          st.sampled_from([None, *PublishState])), max_size=40), st.booleans())
def test_a_report_counts_a_round_as_event_by_event_counting_would(
        events: list[tuple[str, AdmissionOutcome, PublishState | None]], again: bool) -> None:
    report = StreamReport()
    report.count([Outgoing(cls, b"") for cls, _, _ in events], [Outcome(o, s) for _, o, s in events], again)
    assert report.sent_by_class == dict(Counter(cls for cls, _, _ in events))
    assert report.outcomes == dict(Counter(o.value for _, o, _ in events))
    assert report.republished == (sum(s is PublishState.PUBLISHED for _, _, s in events) if again else 0)
