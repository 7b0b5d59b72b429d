-- +goose Up
-- One row per student and check: what the instructors' matrix and the
-- stuck-point analytics read, so they never scan the whole history. A
-- trigger on check_runs keeps it in the same transaction as every insert,
-- so it cannot drift from the runs it summarises.
CREATE TABLE check_progress (
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    step_id       text COLLATE "C" NOT NULL,  -- ids are ASCII: byte order sorts and groups fastest
    check_id      text COLLATE "C" NOT NULL,
    attempts      integer NOT NULL,
    failures      integer NOT NULL,          -- runs that did not pass
    first_at      timestamptz NOT NULL,
    first_pass_at timestamptz,
    last_run_id   bigint NOT NULL,
    last_status   text NOT NULL,
    last_kind     text NOT NULL,
    last_summary  text NOT NULL,
    last_at       timestamptz NOT NULL,
    fail_streak   integer NOT NULL,          -- runs in a row, up to the last, that did not pass
    kind_streak   integer NOT NULL,          -- of those, in a row with last_kind
    PRIMARY KEY (user_id, step_id, check_id)
) WITH (fillfactor = 70); -- room for in-place (HOT) updates: a row changes at every run

-- How often each diagnosis (the grader's near-miss kind) came back for a
-- student and check.
CREATE TABLE check_failure_kinds (
    user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    step_id  text COLLATE "C" NOT NULL,
    check_id text COLLATE "C" NOT NULL,
    kind     text COLLATE "C" NOT NULL,
    runs     integer NOT NULL,
    PRIMARY KEY (user_id, step_id, check_id, kind)
) WITH (fillfactor = 70);

-- +goose StatementBegin
CREATE FUNCTION check_progress_apply(r check_runs) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    failed boolean := r.status <> 'pass';
BEGIN
    INSERT INTO check_progress AS p (user_id, step_id, check_id, attempts, failures, first_at, first_pass_at,
        last_run_id, last_status, last_kind, last_summary, last_at, fail_streak, kind_streak)
    VALUES (r.user_id, r.step_id, r.check_id, 1, failed::int, r.started_at,
        CASE WHEN failed THEN NULL ELSE r.started_at END,
        r.id, r.status, r.kind, r.summary, r.started_at, failed::int, failed::int)
    ON CONFLICT (user_id, step_id, check_id) DO UPDATE SET
        attempts = p.attempts + 1,
        failures = p.failures + failed::int,
        first_at = least(p.first_at, r.started_at),
        first_pass_at = CASE WHEN failed THEN p.first_pass_at ELSE least(coalesce(p.first_pass_at, r.started_at), r.started_at) END,
        -- A late insert of an older run counts, but does not become the last one.
        last_run_id  = CASE WHEN (r.started_at, r.id) >= (p.last_at, p.last_run_id) THEN r.id ELSE p.last_run_id END,
        last_status  = CASE WHEN (r.started_at, r.id) >= (p.last_at, p.last_run_id) THEN r.status ELSE p.last_status END,
        last_kind    = CASE WHEN (r.started_at, r.id) >= (p.last_at, p.last_run_id) THEN r.kind ELSE p.last_kind END,
        last_summary = CASE WHEN (r.started_at, r.id) >= (p.last_at, p.last_run_id) THEN r.summary ELSE p.last_summary END,
        fail_streak  = CASE WHEN (r.started_at, r.id) < (p.last_at, p.last_run_id) THEN p.fail_streak
                            WHEN failed THEN p.fail_streak + 1 ELSE 0 END,
        kind_streak  = CASE WHEN (r.started_at, r.id) < (p.last_at, p.last_run_id) THEN p.kind_streak
                            WHEN NOT failed THEN 0
                            WHEN p.last_status <> 'pass' AND p.last_kind = r.kind THEN p.kind_streak + 1
                            ELSE 1 END,
        last_at      = greatest(p.last_at, r.started_at);
    IF failed THEN
        INSERT INTO check_failure_kinds AS k (user_id, step_id, check_id, kind, runs)
        VALUES (r.user_id, r.step_id, r.check_id, r.kind, 1)
        ON CONFLICT (user_id, step_id, check_id, kind) DO UPDATE SET runs = k.runs + 1;
    END IF;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION check_runs_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM check_progress_apply(NEW);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER check_runs_track AFTER INSERT ON check_runs FOR EACH ROW EXECUTE FUNCTION check_runs_track();

-- Rebuilds both summaries from the whole history in a few set-based
-- statements (the trigger's results, for runs stored before it existed or
-- bulk-loaded with it disabled).
-- +goose StatementBegin
CREATE FUNCTION check_progress_rebuild() RETURNS void LANGUAGE sql AS $$
    DELETE FROM check_progress;
    DELETE FROM check_failure_kinds;
    WITH r AS (
        SELECT user_id, step_id, check_id, id, status, kind, summary, started_at, status <> 'pass' AS failed,
               row_number() OVER (PARTITION BY user_id, step_id, check_id ORDER BY started_at DESC, id DESC) AS rn
        FROM check_runs),
    last AS (SELECT * FROM r WHERE rn = 1),
    agg AS (
        SELECT r.user_id, r.step_id, r.check_id, count(*) AS attempts, count(*) FILTER (WHERE r.failed) AS failures,
               min(r.started_at) AS first_at, min(r.started_at) FILTER (WHERE NOT r.failed) AS first_pass_at,
               coalesce(min(r.rn) FILTER (WHERE NOT r.failed), count(*) + 1) - 1 AS fail_streak,
               coalesce(min(r.rn) FILTER (WHERE NOT r.failed OR r.kind <> l.kind), count(*) + 1) - 1 AS kind_streak
        FROM r JOIN last l USING (user_id, step_id, check_id)
        GROUP BY r.user_id, r.step_id, r.check_id)
    INSERT INTO check_progress (user_id, step_id, check_id, attempts, failures, first_at, first_pass_at,
        last_run_id, last_status, last_kind, last_summary, last_at, fail_streak, kind_streak)
    SELECT a.user_id, a.step_id, a.check_id, a.attempts, a.failures, a.first_at, a.first_pass_at,
           l.id, l.status, l.kind, l.summary, l.started_at, a.fail_streak, a.kind_streak
    FROM agg a JOIN last l USING (user_id, step_id, check_id);
    INSERT INTO check_failure_kinds (user_id, step_id, check_id, kind, runs)
    SELECT user_id, step_id, check_id, kind, count(*) FROM check_runs WHERE status <> 'pass'
    GROUP BY user_id, step_id, check_id, kind;
$$;
-- +goose StatementEnd

-- Summarise the runs stored before this migration.
SELECT check_progress_rebuild();

-- Best and latest quiz score per student without visiting the table.
CREATE INDEX quiz_attempts_user_scores ON quiz_attempts (user_id, quiz_id) INCLUDE (score, created_at);
-- A cohort's students, for every dashboard query.
CREATE INDEX cohort_members_students ON cohort_members (cohort_id, user_id) WHERE role = 'student';

-- A regrade: every student of a cohort has one step's checks run again in
-- the background (one job per student, in River's queue).
CREATE TABLE regrades (
    id           bigserial PRIMARY KEY,
    cohort_id    bigint NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
    step_id      text NOT NULL,
    requested_by bigint REFERENCES users (id) ON DELETE SET NULL,
    total        integer NOT NULL,
    done         integer NOT NULL DEFAULT 0,
    failed       integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
CREATE INDEX regrades_cohort ON regrades (cohort_id, created_at DESC);

-- Each student of a regrade, so a job that runs twice (after a restart)
-- is counted once.
CREATE TABLE regrade_items (
    regrade_id  bigint NOT NULL REFERENCES regrades (id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state       text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    finished_at timestamptz,
    PRIMARY KEY (regrade_id, user_id)
);

-- +goose Down
DROP TABLE regrade_items;
DROP TABLE regrades;
DROP INDEX cohort_members_students;
DROP INDEX quiz_attempts_user_scores;
DROP TRIGGER check_runs_track ON check_runs;
DROP FUNCTION check_progress_rebuild();
DROP FUNCTION check_runs_track();
DROP FUNCTION check_progress_apply(check_runs);
DROP TABLE check_failure_kinds;
DROP TABLE check_progress;
