"""Every boundary model rejects malformed input naming the field; fp_core stays pure."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import msgspec
import pytest
from pydantic import TypeAdapter, ValidationError

from fp_core.envelope import EventEnvelope
from fp_core.evidence import RunCompleted
from fp_core.offsets import OffsetRange, OriginOffset
from fp_core.pins import ContextPins
from fp_core.receipts import AdmissionOutcome, PublishState, Receipt, ReceiptRow
from fp_core.run_config import RunConfig

CORE = Path(__file__).resolve().parents[2] / "src" / "fp_core"

@pytest.mark.parametrize(("model", "data", "field"), [
    (ContextPins, {"platform_run_id": "pr", "scenario_run_id": "sr", "manifest_fingerprint": "xyz", "seed": 1,
                   "schema_version": "v", "policy_id": "p", "bundle_id": "b"}, "manifest_fingerprint"),
    (ContextPins, {"platform_run_id": "has space", "scenario_run_id": "sr", "manifest_fingerprint": "a" * 64,
                   "seed": 1, "schema_version": "v", "policy_id": "p", "bundle_id": "b"}, "platform_run_id"),
    (OffsetRange, {"topic": "t", "partition": 0, "start_offset": -2, "end_offset": 0}, "start_offset"),
    (RunConfig, {"env": "e", "seed": 1, "events": 1}, "events"),
    (RunConfig, {"env": "e", "seed": 1, "events": 100, "drills": ["nope"]}, "drills"),
    (Receipt, {"receipt_id": "r"}, "platform_run_id"),
    (RunCompleted, {"platform_run_id": "p", "status": "x", "files": [], "drills_passed": "yes"}, "drills_passed"),
])
def test_model_rejects_malformed_input_naming_the_field(model: type, data: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        model.model_validate(data)
    assert field in str(exc.value)


def test_envelope_requires_timezone_and_rejects_unknown_fields() -> None:
    pins = {"platform_run_id": "pr", "scenario_run_id": "sr", "manifest_fingerprint": "a" * 64, "seed": 1,
            "schema_version": "v", "policy_id": "p", "bundle_id": "b"}
    base = {"event_id": "0" * 32, "event_type": "transaction", "ts_utc": "2026-01-01T00:00:00", "pins": pins,
            "payload": {}, "producer": "wsp"}
    with pytest.raises(ValidationError, match="ts_utc"):
        EventEnvelope.model_validate_json(json.dumps(base))
    with pytest.raises(ValidationError, match="surprise"):
        EventEnvelope.model_validate_json(json.dumps(dict(base, ts_utc="2026-01-01T00:00:00Z", surprise=1)))


def test_models_are_frozen() -> None:
    r = OffsetRange(topic="t", partition=0, start_offset=1, end_offset=2)
    with pytest.raises(ValidationError):
        r.end_offset = 3  # type: ignore[misc]
    o = OriginOffset(topic="t", partition=0, offset=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        o.offset = 2  # type: ignore[misc]


def test_an_origin_offset_is_validated_where_evidence_holds_it() -> None:
    """OriginOffset is plain data (built per record); the models holding it validate it from outside input."""
    with pytest.raises(ValidationError, match="partition"):
        TypeAdapter(OriginOffset).validate_python({"topic": "t", "partition": -1, "offset": 0})
    with pytest.raises(ValidationError, match="published_at"):
        Receipt.model_validate_json(json.dumps({
            "receipt_id": "r", "platform_run_id": "pr", "scenario_run_id": "sr", "event_class": "c",
            "event_id": "e", "event_type": "t", "outcome": "ADMIT", "payload_hash": "0" * 64,
            "publish_state": "PUBLISHED", "published_at": {"topic": "t", "partition": 0, "offset": -5}}))


def test_a_receipt_row_is_its_receipt_and_is_validated_where_it_becomes_one() -> None:
    """IG's receipts are plain data on the hot path (D66); ``receipt()`` is the validated evidence model."""
    receipt = Receipt(receipt_id="r1", platform_run_id="pr", scenario_run_id="sr", event_class="c", event_id="e",
                      event_type="t", outcome=AdmissionOutcome.ADMIT, payload_hash="0" * 64,
                      publish_state=PublishState.PUBLISHED, published_at=OriginOffset("t", 2, 9))
    assert ReceiptRow.__struct_fields__ == tuple(Receipt.model_fields), "the two forms of one record drifted apart"
    row = ReceiptRow.of(receipt)
    assert row.receipt() == receipt and ReceiptRow.of(row.receipt()) == row
    with pytest.raises(ValidationError, match="receipt_id"):
        msgspec.structs.replace(row, receipt_id="").receipt()
    with pytest.raises(ValidationError, match="scenario_run_id"):
        msgspec.structs.replace(row, scenario_run_id="no spaces").receipt()


def test_fp_core_reads_no_environment_or_clock_and_opens_no_file() -> None:
    """What import-linter cannot see (its contracts in pyproject.toml forbid the I/O imports): calls that
    reach the wall clock or the environment through modules the core may import."""
    problems = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("now", "utcnow", "today", "environ", "getenv"):
                problems.append(f"{path.name}:{node.lineno}: .{node.attr}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open":
                problems.append(f"{path.name}:{node.lineno}: open()")
    assert problems == []
