-- +goose Up
-- The read-only Docker agent. A student has at most one agent token, kept
-- only as its SHA-256 with its last characters for "ending in …"; making a
-- new one replaces the old, and revoking keeps the row (revoked_at) so the
-- page can say so.
CREATE TABLE agent_tokens (
    user_id    bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    hint       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

-- Where each student's agent is connected: the replica holding the
-- websocket (its internal URL, which other replicas dial to reach the
-- agent) and the agent's hello. since identifies the session, so a late
-- disconnect of an older session cannot overwrite a newer one.
CREATE TABLE agent_sessions (
    user_id        bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    internal_url   text NOT NULL DEFAULT '',
    connected      boolean NOT NULL DEFAULT false,
    since          timestamptz NOT NULL,
    last_seen      timestamptz NOT NULL DEFAULT now(),
    docker_version text NOT NULL DEFAULT '',
    hostname       text NOT NULL DEFAULT '',
    agent_version  text NOT NULL DEFAULT ''
);
CREATE INDEX agent_sessions_replica ON agent_sessions (internal_url) WHERE connected;

-- Short-lived, single-use links with which the TLS setup script uploads
-- the client bundle into the student's target (SHA-256 only).
CREATE TABLE tls_upload_tokens (
    token_hash bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX tls_upload_tokens_expires ON tls_upload_tokens (expires_at);

-- +goose Down
DROP TABLE tls_upload_tokens;
DROP TABLE agent_sessions;
DROP TABLE agent_tokens;
