-- Assessments run by workers: at most one per (bundle root hash, catalog digest, profile digest).
CREATE TABLE assessments (
    assessment_key TEXT PRIMARY KEY,
    organization TEXT NOT NULL,
    upload_id TEXT NOT NULL,
    bundle_root_hash TEXT NOT NULL,
    record TEXT NOT NULL,
    assessed_at TEXT NOT NULL
);
CREATE INDEX assessments_org ON assessments (organization, assessed_at);
