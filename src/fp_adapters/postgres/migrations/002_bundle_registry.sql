-- The bundle registry (learning loop): append-only lifecycle records of scoring bundles.
CREATE TABLE bundle_registry (
  seq             bigserial PRIMARY KEY,
  record_id       text NOT NULL UNIQUE,
  bundle_id       text NOT NULL,
  event           text NOT NULL,
  record          text NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER bundle_registry_append_only BEFORE UPDATE OR DELETE ON bundle_registry
  FOR EACH ROW EXECUTE FUNCTION fp_reject_mutation();
CREATE TRIGGER bundle_registry_no_truncate BEFORE TRUNCATE ON bundle_registry
  FOR EACH STATEMENT EXECUTE FUNCTION fp_reject_mutation();
