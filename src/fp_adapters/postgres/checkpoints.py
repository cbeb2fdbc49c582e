"""CheckpointLog on Postgres: consumed offset ranges per run and consumer group (append-only)."""

from __future__ import annotations

from collections.abc import Sequence

from fp_adapters.postgres.base import PgStore
from fp_core.offsets import OffsetRange


class PgCheckpointLog(PgStore):
    def record(self, platform_run_id: str, consumer_group: str, ranges: Sequence[OffsetRange]) -> None:
        if not ranges:
            return
        with self.tx() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO consumer_checkpoints (platform_run_id, consumer_group, topic, partition, "
                "start_offset, end_offset) VALUES (%s, %s, %s, %s, %s, %s)",
                [(platform_run_id, consumer_group, r.topic, r.partition, r.start_offset, r.end_offset)
                 for r in ranges])

    def ranges(self, platform_run_id: str, consumer_group: str) -> list[OffsetRange]:
        with self.tx() as conn:
            rows = conn.execute("SELECT topic, partition, start_offset, end_offset FROM consumer_checkpoints "
                                "WHERE platform_run_id = %s AND consumer_group = %s ORDER BY id",
                                (platform_run_id, consumer_group)).fetchall()
        return [OffsetRange(topic=t, partition=p, start_offset=s, end_offset=e) for t, p, s, e in rows]
