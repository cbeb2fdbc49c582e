"""The stored JSON of an audit record digests exactly as the validated record does: the reporter's and the
replayer's digest passes read documents without validating them again (over the memory set)."""

from __future__ import annotations

import orjson

from fp_core.canonical import canonical_json
from fp_core.decisions import AuditRecord
from fp_core.run_config import RunConfig
from fp_core.services.replay import audited_digest, decision_digest
from tests.unit.conftest import memory_container


def test_documents_digest_like_the_records_they_store() -> None:
    container = memory_container()
    ready = container.sr().ready(RunConfig(env="memory", seed=11, events=1200), "pr-docs")
    container.rtdl().decide(ready, container.wsp().stream(ready))
    log = container.adapters.audit_log()
    records, documents = list(log.scan("pr-docs")), list(log.documents("pr-docs"))
    assert len(records) == len(documents) > 200
    for record, document in zip(records, documents, strict=True):
        assert AuditRecord.model_validate_json(document) == record
        assert audited_digest(document) == (record.decision.decision_id, decision_digest(record.decision))
        assert canonical_json(orjson.loads(document)) == canonical_json(record.model_dump(mode="json"))
