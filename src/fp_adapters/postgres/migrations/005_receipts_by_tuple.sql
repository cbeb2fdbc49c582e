-- Receipts found by their dedupe tuple without an index on every receipt's event id (D65). An index keyed
-- by a hash (the event id) takes each insert on a page of its own: 4 us of Postgres CPU per admitted event,
-- a quarter of IG's Postgres work. A receipt that claimed its tuple (IG's every first admission, `claimant`)
-- is found through the admission index instead, whose claim now names it (`receipt_id`; its key leads with
-- the event id, so a lookup by event id alone is a key prefix). Every other receipt (duplicates, anomalies,
-- quarantines, re-admissions after a crash, and every receipt written before this migration) is found by a
-- partial index on its event id: a few per thousand.
ALTER TABLE admission_index ADD COLUMN receipt_id text;
ALTER TABLE admission_index DROP CONSTRAINT admission_index_pkey,
  ADD PRIMARY KEY (platform_run_id, event_id, event_class);
ALTER TABLE receipts ADD COLUMN claimant boolean NOT NULL DEFAULT false;
CREATE INDEX receipts_run_event_others ON receipts (platform_run_id, event_id) WHERE NOT claimant;
DROP INDEX receipts_run_event;

-- A run's receipts by tuple: every receipt once, under its own tuple (the claim's tuple is the receipt's).
CREATE VIEW tuple_receipts AS
  SELECT a.platform_run_id, a.event_class, a.event_id, r.receipt_id, r.scenario_run_id, r.event_type, r.outcome,
         r.reason, r.detail, r.payload_hash, r.publish_state, r.pub_topic, r.pub_partition, r.pub_offset
    FROM admission_index a
    JOIN receipts r ON r.platform_run_id = a.platform_run_id AND r.receipt_id = a.receipt_id AND r.claimant
  UNION ALL
  SELECT platform_run_id, event_class, event_id, receipt_id, scenario_run_id, event_type, outcome,
         reason, detail, payload_hash, publish_state, pub_topic, pub_partition, pub_offset
    FROM receipts WHERE NOT claimant;

CREATE OR REPLACE VIEW published AS
  SELECT platform_run_id, event_class, event_id FROM tuple_receipts WHERE publish_state = 'PUBLISHED'
  UNION ALL
  SELECT platform_run_id, event_class, event_id FROM publish_log WHERE state = 'PUBLISHED';
