-- "Published" for a dedupe tuple, defined once: a receipt that tells its publish (IG's every success,
-- D52/D54) or a publish_log record (ambiguous attempts later resolved, re-submitted batches). The
-- admission index's claim and the run closure's unresolved-publish count both read this view. A
-- UNION ALL view: Postgres pushes a query's tuple or run predicate into each branch (index scans).
CREATE VIEW published AS
  SELECT platform_run_id, event_class, event_id FROM receipts WHERE publish_state = 'PUBLISHED'
  UNION ALL
  SELECT platform_run_id, event_class, event_id FROM publish_log WHERE state = 'PUBLISHED';
