-- Tokens, upload records and the hash-chained intake log (the same three tables as the
-- SQLite index, plus the log itself, which every server of a deployment shares).
CREATE TABLE tokens (
    token_id TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL UNIQUE,
    organization TEXT NOT NULL,
    role TEXT NOT NULL,
    grants TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE uploads (
    upload_id TEXT PRIMARY KEY,
    organization TEXT NOT NULL,
    token_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    archive_sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    verdict TEXT NOT NULL,
    reasons TEXT NOT NULL,
    bundle_root_hash TEXT,
    bundle_id TEXT,
    archive_format TEXT NOT NULL,
    signed_receipt TEXT NOT NULL
);
CREATE UNIQUE INDEX uploads_accepted
    ON uploads (organization, bundle_root_hash) WHERE verdict = 'accepted';
CREATE INDEX uploads_org ON uploads (organization, received_at);
CREATE TABLE intake_log (
    seq BIGINT PRIMARY KEY,
    line TEXT NOT NULL
);
-- One row: the head of the log. Appends lock it (SELECT ... FOR UPDATE), so the
-- servers of a deployment write one chain, one entry at a time.
CREATE TABLE log_anchor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    end_offset BIGINT NOT NULL
);
INSERT INTO log_anchor VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0);
