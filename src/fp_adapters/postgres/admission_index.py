"""AdmissionIndex: first writer wins on the dedupe tuple, one round trip per batch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fp_adapters.postgres.base import PgStore
from fp_core.admission import Claim
from fp_core.identity import DedupeKey

CLAIM_SQL = """
WITH incoming AS (
  SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[])
    AS t(platform_run_id, event_class, event_id, payload_hash)
), ins AS (
  INSERT INTO admission_index (platform_run_id, event_class, event_id, payload_hash)
  SELECT platform_run_id, event_class, event_id, payload_hash FROM incoming
  ON CONFLICT DO NOTHING
  RETURNING platform_run_id, event_class, event_id
)
SELECT i.platform_run_id, i.event_class, i.event_id, ins.event_id IS NOT NULL, a.payload_hash,
       ins.event_id IS NULL AND EXISTS (
         SELECT 1 FROM publish_log p WHERE p.platform_run_id = i.platform_run_id
           AND p.event_class = i.event_class AND p.event_id = i.event_id AND p.state = 'PUBLISHED')
FROM incoming i
LEFT JOIN ins USING (platform_run_id, event_class, event_id)
LEFT JOIN admission_index a USING (platform_run_id, event_class, event_id)
"""

FIRST_SQL = """
SELECT platform_run_id, event_class, event_id, payload_hash FROM admission_index
WHERE (platform_run_id, event_class, event_id) IN (
  SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]))
"""


class PgAdmissionIndex(PgStore):
    def claim(self, firsts: Mapping[DedupeKey, str]) -> dict[DedupeKey, Claim]:
        keys = list(firsts)
        cols = ([k.platform_run_id for k in keys], [k.event_class for k in keys], [k.event_id for k in keys],
                [firsts[k] for k in keys])
        with self.tx() as conn:
            rows = conn.execute(CLAIM_SQL, cols).fetchall()
        out: dict[DedupeKey, Claim] = {}
        unseen: list[DedupeKey] = []
        for run, cls, eid, claimed, existing, published in rows:
            key = DedupeKey(run, cls, eid)
            if claimed:
                out[key] = Claim(firsts[key], True, False)
            elif existing is not None:
                out[key] = Claim(existing, False, bool(published))
            else:
                unseen.append(key)  # a concurrent writer won after this statement's snapshot
        if unseen:
            winners = self.first_hashes(unseen)
            for key in unseen:
                out[key] = Claim(winners[key], False, False)
        return out

    def first_hashes(self, keys: Sequence[DedupeKey]) -> dict[DedupeKey, str]:
        with self.tx() as conn:
            rows = conn.execute(FIRST_SQL, ([k.platform_run_id for k in keys], [k.event_class for k in keys],
                                            [k.event_id for k in keys])).fetchall()
        return {DedupeKey(r[0], r[1], r[2]): r[3] for r in rows}
