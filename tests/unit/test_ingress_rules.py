"""The HTTP ingress's pure rules: keys compared in constant time, runs per producer, a token bucket,
and how a body becomes a batch; and the committed OpenAPI document is the one the service serves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fp_core.ingress import (
    JSON,
    NDJSON,
    Authenticator,
    BatchRejected,
    ProducerGrant,
    TokenBucket,
    key_digest,
    split_batch,
)

ROOT = Path(__file__).resolve().parents[2]


def test_a_key_names_its_producer_and_the_producer_its_runs() -> None:
    auth = Authenticator((ProducerGrant("wsp", key_digest("k1")), ProducerGrant("bank", key_digest("k2"),
                                                                              ("pr-bank-*", "pr-7"))))
    assert auth.authenticate("k1").producer_id == "wsp"  # type: ignore[union-attr]
    bank = auth.authenticate("k2")
    assert bank is not None and bank.may_submit_to("pr-bank-1") and bank.may_submit_to("pr-7")
    assert not bank.may_submit_to("pr-other") and not bank.may_submit_to("pr-70")
    assert auth.authenticate("k3") is None and auth.authenticate("") is None and auth.authenticate(None) is None


def test_the_token_bucket_grants_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=100, burst=200)
    assert bucket.take("p", 150, now=0.0) == 0.0
    assert bucket.take("p", 100, now=0.0) == pytest.approx(0.5)  # 50 left: wait for 50 more
    assert bucket.take("q", 200, now=0.0) == 0.0  # per producer
    assert bucket.take("p", 100, now=0.5) == 0.0


def test_a_body_becomes_a_batch_or_a_4xx_naming_the_field() -> None:
    assert split_batch(b'{"a":1}\n\n{"b":2}\r\n', NDJSON, 10, 1000) == [b'{"a":1}', b'{"b":2}\r']
    assert split_batch(b'[{"a": 1}, {"b": NaN}]', JSON + "; charset=utf-8", 10, 1000) == [b'{"a":1}', b'{"b":NaN}']
    for body, ctype, field, status in [(b"x" * 2000, NDJSON, "body", 413), (b"{}\n" * 11, NDJSON, "body", 413),
                                       (b'{"a": 1}', JSON, "body", 422), (b"[", JSON, "body", 422),
                                       (b"[]", JSON, "body", 422), (b"a", "text/plain", "content-type", 415)]:
        with pytest.raises(BatchRejected) as info:
            split_batch(body, ctype, 10, 1000)
        assert (info.value.field, info.value.status) == (field, status), body


def test_the_committed_openapi_document_is_the_served_one() -> None:
    from fp_apps.ig_service import spec

    committed = json.loads((ROOT / "docs/ig_openapi.json").read_text())
    assert committed == json.loads(json.dumps(spec())), (
        "docs/ig_openapi.json is stale: `python -m fp_apps.ig_service > docs/ig_openapi.json`")
