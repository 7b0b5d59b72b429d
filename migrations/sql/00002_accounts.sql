-- +goose Up
-- Accounts, sessions, one-time setup links, cohorts and their members,
-- login throttling windows and API tokens. Secrets (session tokens, setup
-- links, API tokens) are stored only as their SHA-256.
CREATE TABLE users (
    id                  bigserial PRIMARY KEY,
    email               text NOT NULL CHECK (email = lower(btrim(email)) AND email <> ''),
    name                text NOT NULL DEFAULT '',
    password_hash       text NOT NULL,
    role                text NOT NULL DEFAULT 'student' CHECK (role IN ('student', 'instructor', 'admin')),
    preferred_variant   text NOT NULL DEFAULT '' CHECK (preferred_variant IN ('', 'guided', 'concepts')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_role_idx ON users (role);

CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL DEFAULT now(),
    ip         text NOT NULL DEFAULT '',
    user_agent text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- One-time links that create an account with a role: the first admin's
-- setup link, and instructor invitations.
CREATE TABLE setup_tokens (
    id         bigserial PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE,
    role       text NOT NULL CHECK (role IN ('instructor', 'admin')),
    created_by bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    used_by    bigint REFERENCES users (id) ON DELETE SET NULL
);

CREATE TABLE cohorts (
    id                   bigserial PRIMARY KEY,
    name                 text NOT NULL CHECK (name <> ''),
    starts_on            date,
    ends_on              date,
    join_code            text NOT NULL,
    join_open            boolean NOT NULL DEFAULT true,
    default_variant      text NOT NULL DEFAULT 'guided' CHECK (default_variant IN ('guided', 'concepts')),
    allow_private_ranges boolean NOT NULL DEFAULT false,
    pass_mark            double precision NOT NULL DEFAULT 0.7 CHECK (pass_mark >= 0 AND pass_mark <= 1),
    created_by           bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on)
);
CREATE UNIQUE INDEX cohorts_join_code_key ON cohorts (join_code);

CREATE TABLE cohort_members (
    cohort_id bigint NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
    user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role      text NOT NULL CHECK (role IN ('student', 'instructor')),
    joined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cohort_id, user_id)
);
CREATE INDEX cohort_members_user_idx ON cohort_members (user_id, role, joined_at DESC);

-- Fixed windows of failed sign-ins per key ("account:<email>", "ip:<addr>"),
-- shared by every replica.
CREATE TABLE login_throttle (
    key          text PRIMARY KEY,
    window_start timestamptz NOT NULL DEFAULT now(),
    failures     integer NOT NULL DEFAULT 0
);
CREATE INDEX login_throttle_window_idx ON login_throttle (window_start);

CREATE TABLE api_tokens (
    id         bigserial PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used  timestamptz,
    revoked_at timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE login_throttle;
DROP TABLE cohort_members;
DROP TABLE cohorts;
DROP TABLE setup_tokens;
DROP TABLE sessions;
DROP TABLE users;
