"""CheckpointLog on Postgres: consumed offset ranges per run and consumer group (append-only)."""

from __future__ import annotations

from collections.abc import Sequence

from fp_adapters.postgres.base import PgStore, column, unnested
from fp_core.offsets import OffsetRange

RECORD_SQL = (f"INSERT INTO consumer_checkpoints (platform_run_id, consumer_group, topic, partition, start_offset, "
              f"end_offset) SELECT %s, %s, t, p::integer, s::bigint, e::bigint "
              f"FROM unnest({unnested(4)}) AS u(t, p, s, e)")


class PgCheckpointLog(PgStore):
    def record(self, platform_run_id: str, consumer_group: str, ranges: Sequence[OffsetRange]) -> None:
        """One statement, the ranges in order."""
        if not ranges:
            return
        with self.statement() as conn:
            conn.execute(RECORD_SQL, (platform_run_id, consumer_group, column([r.topic for r in ranges]),
                                      column([str(r.partition) for r in ranges]),
                                      column([str(r.start_offset) for r in ranges]),
                                      column([str(r.end_offset) for r in ranges])))

    def ranges(self, platform_run_id: str, consumer_group: str) -> list[OffsetRange]:
        with self.statement() as conn:
            rows = conn.execute("SELECT topic, partition, start_offset, end_offset FROM consumer_checkpoints "
                                "WHERE platform_run_id = %s AND consumer_group = %s ORDER BY id",
                                (platform_run_id, consumer_group)).fetchall()
        return [OffsetRange(topic=t, partition=p, start_offset=s, end_offset=e) for t, p, s, e in rows]
