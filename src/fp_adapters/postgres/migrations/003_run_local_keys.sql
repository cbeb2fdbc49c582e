-- Keys that begin with the run. A derived id (receipt, audit, idempotency, outcome) is a hash, so a
-- primary key on it alone scatters each insert over an index as large as every run ever recorded; once
-- that outgrows the buffer cache, every insert reads and dirties a cold page. Led by platform_run_id,
-- a run's inserts touch only its own region of each index, which stays hot. Uniqueness is unchanged:
-- each id is derived from its run. The run-only indexes these keys now cover are dropped. (D50)
ALTER TABLE receipts DROP CONSTRAINT receipts_pkey, ADD PRIMARY KEY (platform_run_id, receipt_id);
ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey, ADD PRIMARY KEY (platform_run_id, audit_id);
ALTER TABLE action_outcomes DROP CONSTRAINT action_outcomes_idempotency_key_fkey;
ALTER TABLE action_intents DROP CONSTRAINT action_intents_pkey,
  ADD PRIMARY KEY (platform_run_id, idempotency_key);
DROP INDEX action_intents_run;
ALTER TABLE action_outcomes DROP CONSTRAINT action_outcomes_pkey, ADD PRIMARY KEY (platform_run_id, outcome_id),
  ADD FOREIGN KEY (platform_run_id, idempotency_key) REFERENCES action_intents (platform_run_id, idempotency_key);
DROP INDEX action_outcomes_run;
