-- +goose Up
-- A student's target: where their Docker host and AWS instance are, and how
-- to reach them. Secrets are sealed with AES-256-GCM under the server key;
-- only their last characters are kept readable, for "stored, ending in …".
CREATE TABLE targets (
    user_id             bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    docker_mode         text NOT NULL DEFAULT 'none' CHECK (docker_mode IN ('none', 'agent', 'tls', 'plain')),
    docker_endpoint     text NOT NULL DEFAULT '',
    docker_ca_pem       text NOT NULL DEFAULT '',
    docker_cert_pem     text NOT NULL DEFAULT '',
    docker_key_sealed   bytea,
    docker_key_hint     text NOT NULL DEFAULT '',
    aws_region          text NOT NULL DEFAULT '',
    aws_instance_id     text NOT NULL DEFAULT '',
    aws_plan            text NOT NULL DEFAULT 'credits' CHECK (aws_plan IN ('legacy', 'credits')),
    aws_mode            text NOT NULL DEFAULT 'none' CHECK (aws_mode IN ('none', 'role', 'keys')),
    aws_role_arn        text NOT NULL DEFAULT '',
    aws_external_id     text NOT NULL,
    aws_access_key_id   text NOT NULL DEFAULT '',
    aws_secret_sealed   bytea,
    aws_secret_hint     text NOT NULL DEFAULT '',
    app_url             text NOT NULL DEFAULT '',
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- Every run of every check, as the grader reported it. Progress and the
-- instructor views are derived from these rows.
CREATE TABLE check_runs (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    cohort_id   bigint REFERENCES cohorts (id) ON DELETE SET NULL,
    batch_id    bigint NOT NULL,
    step_id     text NOT NULL,
    check_id    text NOT NULL,
    status      text NOT NULL CHECK (status IN ('pass', 'fail', 'warn', 'error')),
    kind        text NOT NULL DEFAULT '',
    title       text NOT NULL DEFAULT '',
    summary     text NOT NULL DEFAULT '',
    evidence    jsonb NOT NULL DEFAULT '[]',
    hint        text NOT NULL DEFAULT '',
    source      text NOT NULL DEFAULT 'student' CHECK (source IN ('student', 'regrade', 'cli')),
    started_at  timestamptz NOT NULL,
    duration_ms integer NOT NULL DEFAULT 0
);
CREATE SEQUENCE check_batch_seq;
CREATE INDEX check_runs_user_step ON check_runs (user_id, step_id, check_id, started_at DESC);
CREATE INDEX check_runs_cohort ON check_runs (cohort_id, user_id, step_id, check_id, started_at DESC);

-- Quiz attempts, scored on the server.
CREATE TABLE quiz_attempts (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    cohort_id   bigint REFERENCES cohorts (id) ON DELETE SET NULL,
    quiz_id     text NOT NULL,
    answers     jsonb NOT NULL,
    results     jsonb NOT NULL DEFAULT '[]',
    score       real NOT NULL CHECK (score >= 0 AND score <= 1),
    correct     integer NOT NULL,
    total       integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quiz_attempts_user ON quiz_attempts (user_id, quiz_id, created_at DESC);
CREATE INDEX quiz_attempts_cohort ON quiz_attempts (cohort_id, user_id, quiz_id);

-- +goose Down
DROP TABLE quiz_attempts;
DROP SEQUENCE check_batch_seq;
DROP TABLE check_runs;
DROP TABLE targets;
