-- The same tables as the embedded store's, in PostgreSQL's types: every integer is a
-- BIGINT (times are Unix milliseconds, money micro-dollars), settings are JSON text.

-- Organisations and teams (team = '' for the organisation itself).
CREATE TABLE groups (
    org TEXT NOT NULL,
    team TEXT NOT NULL DEFAULT '',
    settings TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org, team)
);

-- Virtual keys: never the secret, only its SHA-256.
CREATE TABLE keys (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    last4 TEXT NOT NULL,
    org TEXT NOT NULL,
    team TEXT,
    settings TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    rotated_from TEXT
);
CREATE INDEX keys_by_group ON keys (org, team, created_at);

-- Budget alerts sent: one row per threshold of one window, inserted by whoever sends it.
CREATE TABLE alert_claims (
    scope TEXT NOT NULL,
    period TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    threshold BIGINT NOT NULL,
    PRIMARY KEY (scope, period, window_start, threshold)
);

-- One row per request; the id makes a repeated write a no-op.
CREATE TABLE ledger (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    key_id TEXT,
    org TEXT,
    team TEXT,
    model TEXT NOT NULL,
    deployment TEXT,
    provider TEXT,
    route TEXT NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cached_tokens BIGINT NOT NULL,
    reasoning_tokens BIGINT NOT NULL,
    price_version TEXT NOT NULL,
    cost BIGINT NOT NULL,
    latency_ms BIGINT NOT NULL,
    ttft_ms BIGINT,
    status BIGINT NOT NULL,
    stream BOOLEAN NOT NULL,
    usage_estimated BOOLEAN NOT NULL,
    cancelled_calls BIGINT NOT NULL
);
CREATE INDEX ledger_by_time ON ledger (at);
CREATE INDEX ledger_by_key ON ledger (key_id, at);
CREATE INDEX ledger_by_group ON ledger (org, team, at);

CREATE TABLE audit (
    seq BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before TEXT,
    after TEXT
);
