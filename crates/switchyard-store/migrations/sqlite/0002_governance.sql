-- Organisations and teams (team = '' for the organisation itself). Settings hold the
-- limits, budgets and metadata as JSON.
CREATE TABLE groups (
    org TEXT NOT NULL,
    team TEXT NOT NULL DEFAULT '',
    settings TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
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
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    rotated_from TEXT
);
CREATE INDEX keys_by_group ON keys (org, team, created_at);

-- Budget alerts sent: one row per threshold of one window, inserted by whoever sends it.
CREATE TABLE alert_claims (
    scope TEXT NOT NULL,
    period TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    threshold INTEGER NOT NULL,
    PRIMARY KEY (scope, period, window_start, threshold)
);

-- One row per request; the id makes a repeated write a no-op.
CREATE TABLE ledger (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    key_id TEXT,
    org TEXT,
    team TEXT,
    model TEXT NOT NULL,
    deployment TEXT,
    provider TEXT,
    route TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL,
    price_version TEXT NOT NULL,
    cost INTEGER NOT NULL,
    latency_ms INTEGER NOT NULL,
    ttft_ms INTEGER,
    status INTEGER NOT NULL,
    stream INTEGER NOT NULL,
    usage_estimated INTEGER NOT NULL,
    cancelled_calls INTEGER NOT NULL
);
CREATE INDEX ledger_by_time ON ledger (at);
CREATE INDEX ledger_by_key ON ledger (key_id, at);
CREATE INDEX ledger_by_group ON ledger (org, team, at);

CREATE TABLE audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before TEXT,
    after TEXT
);
