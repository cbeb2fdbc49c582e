-- Truth stores of the platform. Every table here is append-only: the trigger below rejects UPDATE,
-- DELETE and TRUNCATE, so history cannot be rewritten by any client, ours or not.
CREATE OR REPLACE FUNCTION fp_reject_mutation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'FP001';
END $$;

CREATE TABLE admission_index (
  platform_run_id text NOT NULL,
  event_class     text NOT NULL,
  event_id        text NOT NULL,
  payload_hash    text NOT NULL,
  PRIMARY KEY (platform_run_id, event_class, event_id)
);

CREATE TABLE receipts (
  receipt_id      text PRIMARY KEY,
  platform_run_id text NOT NULL,
  scenario_run_id text NOT NULL,
  event_class     text NOT NULL,
  event_id        text NOT NULL,
  event_type      text NOT NULL,
  outcome         text NOT NULL,
  reason          text,
  detail          text NOT NULL,
  payload_hash    text NOT NULL,
  publish_state   text,
  pub_topic       text,
  pub_partition   integer,
  pub_offset      bigint,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX receipts_run_event ON receipts (platform_run_id, event_id);

CREATE TABLE publish_log (
  id              bigserial PRIMARY KEY,
  platform_run_id text NOT NULL,
  event_class     text NOT NULL,
  event_id        text NOT NULL,
  state           text NOT NULL,
  pub_topic       text,
  pub_partition   integer,
  pub_offset      bigint,
  error           text NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX publish_log_key ON publish_log (platform_run_id, event_class, event_id);

CREATE TABLE quarantine_index (
  platform_run_id text NOT NULL,
  event_class     text NOT NULL,
  event_id        text NOT NULL,
  reason          text NOT NULL,
  receipt_id      text NOT NULL,
  quarantine_id   text NOT NULL,
  detail          text NOT NULL,
  payload_hash    text NOT NULL,
  object_key      text NOT NULL,
  line            integer NOT NULL,
  PRIMARY KEY (platform_run_id, event_class, event_id, reason, receipt_id)
);

CREATE TABLE audit_log (
  audit_id        text PRIMARY KEY,
  platform_run_id text NOT NULL,
  event_id        text NOT NULL,
  record          text NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_run_event ON audit_log (platform_run_id, event_id);

CREATE TABLE action_intents (
  idempotency_key text PRIMARY KEY,
  decision_id     text NOT NULL,
  platform_run_id text NOT NULL,
  action          text NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX action_intents_run ON action_intents (platform_run_id);

CREATE TABLE action_outcomes (
  outcome_id      text PRIMARY KEY,
  idempotency_key text NOT NULL REFERENCES action_intents (idempotency_key),
  platform_run_id text NOT NULL,
  action          text NOT NULL,
  status          text NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX action_outcomes_run ON action_outcomes (platform_run_id);

CREATE TABLE case_timeline (
  event_id        text PRIMARY KEY,
  case_id         text NOT NULL,
  platform_run_id text NOT NULL,
  record          text NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_timeline_case ON case_timeline (case_id);
CREATE INDEX case_timeline_run ON case_timeline (platform_run_id);

CREATE TABLE label_assertions (
  assertion_id    text PRIMARY KEY,
  platform_run_id text NOT NULL,
  event_id        text NOT NULL,
  record          text NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX label_assertions_run ON label_assertions (platform_run_id);

CREATE TABLE consumer_checkpoints (
  id              bigserial PRIMARY KEY,
  platform_run_id text NOT NULL,
  consumer_group  text NOT NULL,
  topic           text NOT NULL,
  partition       integer NOT NULL,
  start_offset    bigint NOT NULL,
  end_offset      bigint NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consumer_checkpoints_run ON consumer_checkpoints (platform_run_id, consumer_group);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['admission_index', 'receipts', 'publish_log', 'quarantine_index', 'audit_log',
                           'action_intents', 'action_outcomes', 'case_timeline', 'label_assertions',
                           'consumer_checkpoints']
  LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION fp_reject_mutation()',
                   t || '_append_only', t);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION fp_reject_mutation()',
                   t || '_no_truncate', t);
  END LOOP;
END $$;
