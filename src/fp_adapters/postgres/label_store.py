"""LabelStore on Postgres: append-only label assertions."""

from __future__ import annotations

from collections.abc import Sequence

from fp_adapters.postgres.base import JsonRecordLog
from fp_core.labels import LabelAssertion


class PgLabelStore(JsonRecordLog):
    table = "label_assertions"
    columns = ("assertion_id", "platform_run_id", "event_id", "record")

    def append(self, assertions: Sequence[LabelAssertion]) -> int:
        return self.insert([(a.assertion_id, a.subject.platform_run_id, a.subject.event_id, a.model_dump_json())
                            for a in assertions])

    def for_run(self, platform_run_id: str) -> list[LabelAssertion]:
        return [LabelAssertion.model_validate_json(d)
                for d in self.select_documents("platform_run_id = %s", (platform_run_id,), "assertion_id")]
