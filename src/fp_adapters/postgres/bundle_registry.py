"""RegistryLog on Postgres: the bundle registry's append-only records, ordered by a sequence."""

from __future__ import annotations

from collections.abc import Sequence

from fp_adapters.postgres.base import JsonRecordLog
from fp_core.learning import RegistryRecord


class PgRegistryLog(JsonRecordLog):
    table = "bundle_registry"
    columns = ("record_id", "bundle_id", "event", "record")

    def append(self, records: Sequence[RegistryRecord]) -> int:
        return self.insert([(r.record_id, r.bundle_id, r.event.value, r.model_dump_json()) for r in records])

    def records(self) -> list[RegistryRecord]:
        return [RegistryRecord.model_validate_json(d) for d in self.select_documents("TRUE", (), "seq")]
