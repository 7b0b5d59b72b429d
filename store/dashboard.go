package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"golang.org/x/sync/errgroup"
)

// CheckProgress is a student's summary of one check, kept by a trigger on
// check_runs: how often it ran, when it first passed, how the last run
// went and how many runs in a row failed.
type CheckProgress struct {
	UserID      int64
	StepID      string
	CheckID     string
	Attempts    int
	Failures    int
	FirstAt     time.Time
	FirstPassAt *time.Time
	LastRunID   int64
	LastStatus  string
	LastKind    string
	LastSummary string
	LastAt      time.Time
	FailStreak  int // runs in a row, up to the last, that did not pass
	KindStreak  int // of those, runs in a row with the last run's diagnosis
}

// LastRun returns the check's last run as a CheckRun (the fields the
// summary keeps), the shape progress is derived from.
func (p CheckProgress) LastRun() CheckRun {
	return CheckRun{ID: p.LastRunID, UserID: p.UserID, StepID: p.StepID, CheckID: p.CheckID, Status: p.LastStatus,
		Kind: p.LastKind, Summary: p.LastSummary, StartedAt: p.LastAt}
}

// StudentProgress is one student of a cohort with everything the matrix
// needs: every check's summary and every quiz's scores.
type StudentProgress struct {
	User
	CohortID   int64
	JoinedAt   time.Time
	LastActive time.Time // the last check run or quiz attempt; zero if none
	Checks     []CheckProgress
	Quizzes    map[string]QuizScore
}

// The dashboard's statements (the benchmark explains them by name). $1 is
// the cohort (an array of cohorts for the first three); $2 a user id (0:
// every student), the number of diagnoses or the streak.
const (
	sqlStudents = `SELECT cohort_id, user_id, joined_at FROM cohort_members
		WHERE cohort_id = ANY($1) AND role = 'student' AND ($2 = 0 OR user_id = $2)`
	sqlCohortStudents = `
			SELECT u.id, u.email, u.name, u.role, u.preferred_variant, u.created_at, s.cohort_id, s.joined_at
			FROM (` + sqlStudents + `) s JOIN users u ON u.id = s.user_id
			ORDER BY s.cohort_id, u.name, u.id`
	sqlCohortChecks = `
			SELECT p.user_id, p.step_id, p.check_id, p.attempts, p.failures, p.first_at, p.first_pass_at, p.last_run_id,
			       p.last_status, p.last_kind, p.last_summary, p.last_at, p.fail_streak, p.kind_streak
			FROM check_progress p
			WHERE p.user_id IN (SELECT user_id FROM (` + sqlStudents + `) s)
			ORDER BY p.user_id`
	sqlCohortQuizzes = `
			SELECT q.user_id, q.quiz_id, max(q.score), (array_agg(q.score ORDER BY q.created_at DESC))[1], count(*), max(q.created_at)
			FROM quiz_attempts q
			WHERE q.user_id IN (SELECT user_id FROM (` + sqlStudents + `) s)
			GROUP BY q.user_id, q.quiz_id`
	sqlCheckStats = `
		WITH s AS (SELECT user_id FROM cohort_members WHERE cohort_id = $1 AND role = 'student')
		SELECT p.step_id, p.check_id, count(*),
		       count(*) FILTER (WHERE p.last_status = 'pass'),
		       count(*) FILTER (WHERE p.first_pass_at IS NOT NULL),
		       count(*) FILTER (WHERE p.last_status <> 'pass' AND p.fail_streak >= 2),
		       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM p.first_pass_at - p.first_at))
		           FILTER (WHERE p.first_pass_at IS NOT NULL)
		FROM check_progress p JOIN s ON s.user_id = p.user_id
		GROUP BY p.step_id, p.check_id
		ORDER BY p.step_id, p.check_id`
	sqlFailureKinds = `
		WITH s AS (SELECT user_id FROM cohort_members WHERE cohort_id = $1 AND role = 'student'),
		k AS (
			SELECT k.step_id, k.check_id, k.kind, sum(k.runs) AS runs, count(*) AS students
			FROM check_failure_kinds k JOIN s ON s.user_id = k.user_id
			GROUP BY k.step_id, k.check_id, k.kind),
		ranked AS (
			SELECT *, row_number() OVER (PARTITION BY step_id, check_id ORDER BY runs DESC, kind) AS n FROM k)
		SELECT step_id, check_id, kind, runs, students FROM ranked WHERE n <= $2
		ORDER BY step_id, check_id, n`
	sqlRaisedHands = `
		SELECT u.id, u.name, u.email, p.step_id, p.check_id, p.last_kind, p.kind_streak, p.last_summary, p.last_at
		FROM cohort_members m
		JOIN check_progress p ON p.user_id = m.user_id
		JOIN users u ON u.id = m.user_id
		WHERE m.cohort_id = $1 AND m.role = 'student' AND p.last_status <> 'pass' AND p.kind_streak >= $2
		ORDER BY p.kind_streak DESC, p.last_at DESC, u.id`
)

// CohortProgress returns the students of a cohort with their progress, in
// three queries whatever the cohort's size. userID > 0 limits it to one
// student (the live row of the matrix).
func (db *DB) CohortProgress(ctx context.Context, cohortID, userID int64) ([]StudentProgress, error) {
	return db.cohortsProgress(ctx, []int64{cohortID}, userID)
}

// CohortsProgress returns the students of several cohorts (the admins'
// overview), in the same three queries.
func (db *DB) CohortsProgress(ctx context.Context, cohortIDs []int64) ([]StudentProgress, error) {
	return db.cohortsProgress(ctx, cohortIDs, 0)
}

func (db *DB) cohortsProgress(ctx context.Context, cohortIDs []int64, userID int64) ([]StudentProgress, error) {
	// The three queries are independent: they run at once on three of the
	// pool's connections.
	var (
		out    []StudentProgress
		checks []CheckProgress
		scores []userScore
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		rows, err := db.Pool.Query(gctx, sqlCohortStudents, cohortIDs, userID)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (StudentProgress, error) {
			var sp StudentProgress
			err := r.Scan(&sp.ID, &sp.Email, &sp.Name, &sp.Role, &sp.PreferredVariant, &sp.CreatedAt, &sp.CohortID, &sp.JoinedAt)
			return sp, err
		})
		return err
	})
	// A cohort of 1,000 has tens of thousands of check rows: the ids,
	// statuses and diagnoses, a few dozen distinct values, are read
	// without a copy each (DriverBytes) and shared (interned); only the
	// summaries are strings of their own.
	g.Go(func() error {
		rows, err := db.Pool.Query(gctx, sqlCohortChecks, cohortIDs, userID)
		if err != nil {
			return err
		}
		defer rows.Close()
		var in interner
		var step, check, status, kind pgtype.DriverBytes
		for rows.Next() {
			var p CheckProgress
			if err := rows.Scan(&p.UserID, &step, &check, &p.Attempts, &p.Failures, &p.FirstAt, &p.FirstPassAt, &p.LastRunID,
				&status, &kind, &p.LastSummary, &p.LastAt, &p.FailStreak, &p.KindStreak); err != nil {
				return err
			}
			p.StepID, p.CheckID, p.LastStatus, p.LastKind = in.get(step), in.get(check), in.get(status), in.get(kind)
			checks = append(checks, p)
		}
		return rows.Err()
	})
	g.Go(func() error {
		rows, err := db.Pool.Query(gctx, sqlCohortQuizzes, cohortIDs, userID)
		if err != nil {
			return err
		}
		defer rows.Close()
		var in interner
		var quiz pgtype.DriverBytes
		for rows.Next() {
			var us userScore
			var best, latest float32
			if err := rows.Scan(&us.userID, &quiz, &best, &latest, &us.Attempts, &us.LastAt); err != nil {
				return err
			}
			us.QuizID, us.Best, us.Latest = in.get(quiz), float64(best), float64(latest)
			scores = append(scores, us)
		}
		return rows.Err()
	})
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("store: cohort progress: %w", err)
	}
	index := make(map[int64][]int, len(out)) // user id -> positions (a user may be in several cohorts)
	for i := range out {
		out[i].Quizzes = map[string]QuizScore{}
		index[out[i].ID] = append(index[out[i].ID], i)
	}
	seen := func(id int64, t time.Time) {
		for _, i := range index[id] {
			if t.After(out[i].LastActive) {
				out[i].LastActive = t
			}
		}
	}
	// The checks come ordered by student: each student's are a run of
	// the slice, shared rather than copied (capped, so an append by a
	// caller never writes into the next student's run).
	for lo := 0; lo < len(checks); {
		id := checks[lo].UserID
		hi := lo
		for hi < len(checks) && checks[hi].UserID == id {
			seen(id, checks[hi].LastAt)
			hi++
		}
		for _, i := range index[id] {
			out[i].Checks = checks[lo:hi:hi]
		}
		lo = hi
	}
	for _, us := range scores {
		for _, i := range index[us.userID] {
			out[i].Quizzes[us.QuizID] = us.QuizScore
		}
		seen(us.userID, us.LastAt)
	}
	return out, nil
}

// userScore is a QuizScore with its student.
type userScore struct {
	QuizScore
	userID int64
}

// CheckStats is how a cohort fares on one check.
type CheckStats struct {
	StepID       string
	CheckID      string
	Tried        int            // students who ran it at least once
	Passed       int            // students whose last run passed
	EverPassed   int            // students who passed it at least once
	KeepFailing  int            // students whose last two runs or more did not pass
	MedianToPass *time.Duration // median time from first run to first pass, among those who passed
	Kinds        []KindCount    // the most common diagnoses of failed runs, most frequent first
}

// KindCount is how often one diagnosis came back.
type KindCount struct {
	Kind     string
	Runs     int // failed runs with this diagnosis
	Students int // students who got it at least once
}

// RaisedHand is a student who failed one check several times in a row
// with the same diagnosis.
type RaisedHand struct {
	UserID  int64
	Name    string
	Email   string
	StepID  string
	CheckID string
	Kind    string
	Streak  int
	Summary string
	LastAt  time.Time
}

// CohortCheckStats returns, per step and check, how the cohort's students
// fare: aggregates in SQL over the per-check summaries.
func (db *DB) CohortCheckStats(ctx context.Context, cohortID int64, topKinds int) ([]CheckStats, error) {
	rows, err := db.Pool.Query(ctx, sqlCheckStats, cohortID)
	if err != nil {
		return nil, fmt.Errorf("store: check stats: %w", err)
	}
	var out []CheckStats
	pos := map[[2]string]int{}
	for rows.Next() {
		var cs CheckStats
		var median *float64
		if err := rows.Scan(&cs.StepID, &cs.CheckID, &cs.Tried, &cs.Passed, &cs.EverPassed, &cs.KeepFailing, &median); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: check stats: %w", err)
		}
		if median != nil {
			d := time.Duration(*median * float64(time.Second)).Round(time.Second)
			cs.MedianToPass = &d
		}
		pos[[2]string{cs.StepID, cs.CheckID}] = len(out)
		out = append(out, cs)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: check stats: %w", err)
	}
	rows, err = db.Pool.Query(ctx, sqlFailureKinds, cohortID, topKinds)
	if err != nil {
		return nil, fmt.Errorf("store: check stats: kinds: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var step, check string
		var kc KindCount
		if err := rows.Scan(&step, &check, &kc.Kind, &kc.Runs, &kc.Students); err != nil {
			return nil, fmt.Errorf("store: check stats: kinds: %w", err)
		}
		if i, ok := pos[[2]string{step, check}]; ok {
			out[i].Kinds = append(out[i].Kinds, kc)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: check stats: kinds: %w", err)
	}
	return out, nil
}

// TopFailureKinds returns, for each of the given (step, check) pairs, the
// top most common diagnoses of the cohort's students' failed runs, most
// frequent first: the dashboard's few hardest checks, whose counts it
// derives from the matrix it already loaded.
func (db *DB) TopFailureKinds(ctx context.Context, cohortID int64, pairs [][2]string, top int) (map[[2]string][]KindCount, error) {
	out := map[[2]string][]KindCount{}
	if len(pairs) == 0 {
		return out, nil
	}
	steps, checks := make([]string, len(pairs)), make([]string, len(pairs))
	for i, p := range pairs {
		steps[i], checks[i] = p[0], p[1]
	}
	rows, err := db.Pool.Query(ctx, `
		WITH s AS (SELECT user_id FROM cohort_members WHERE cohort_id = $1 AND role = 'student'),
		k AS (
			SELECT k.step_id, k.check_id, k.kind, sum(k.runs) AS runs, count(*) AS students
			FROM check_failure_kinds k JOIN s ON s.user_id = k.user_id
			WHERE (k.step_id, k.check_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))
			GROUP BY k.step_id, k.check_id, k.kind),
		ranked AS (
			SELECT *, row_number() OVER (PARTITION BY step_id, check_id ORDER BY runs DESC, kind) AS n FROM k)
		SELECT step_id, check_id, kind, runs, students FROM ranked WHERE n <= $4
		ORDER BY step_id, check_id, n`, cohortID, steps, checks, top)
	if err != nil {
		return nil, fmt.Errorf("store: failure kinds: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key [2]string
		var kc KindCount
		if err := rows.Scan(&key[0], &key[1], &kc.Kind, &kc.Runs, &kc.Students); err != nil {
			return nil, fmt.Errorf("store: failure kinds: %w", err)
		}
		out[key] = append(out[key], kc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: failure kinds: %w", err)
	}
	return out, nil
}

// RaisedHands returns the cohort's students whose last minStreak runs or
// more of one check failed with the same diagnosis, longest streak first.
func (db *DB) RaisedHands(ctx context.Context, cohortID int64, minStreak int) ([]RaisedHand, error) {
	rows, err := db.Pool.Query(ctx, sqlRaisedHands, cohortID, minStreak)
	if err != nil {
		return nil, fmt.Errorf("store: raised hands: %w", err)
	}
	defer rows.Close()
	var out []RaisedHand
	for rows.Next() {
		var r RaisedHand
		if err := rows.Scan(&r.UserID, &r.Name, &r.Email, &r.StepID, &r.CheckID, &r.Kind, &r.Streak, &r.Summary, &r.LastAt); err != nil {
			return nil, fmt.Errorf("store: raised hands: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// UserRuns returns a student's runs of every step, newest first.
func (db *DB) UserRuns(ctx context.Context, userID int64, limit int) ([]CheckRun, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT `+runColumns+` FROM check_runs WHERE user_id = $1
		ORDER BY started_at DESC, id DESC LIMIT $2`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: runs of %d: %w", userID, err)
	}
	runs, err := scanRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("store: runs of %d: %w", userID, err)
	}
	return runs, nil
}

// RebuildCheckProgress recomputes the per-check summaries from the whole
// history of runs, set-based (after a bulk load with the trigger off, or
// to verify the trigger).
func (db *DB) RebuildCheckProgress(ctx context.Context) error {
	if _, err := db.Pool.Exec(ctx, `SELECT check_progress_rebuild()`); err != nil {
		return fmt.Errorf("store: rebuild check progress: %w", err)
	}
	return nil
}

// interner shares one string per distinct value read from a column of
// few distinct values (ids, statuses, diagnoses).
type interner map[string]string

func (in *interner) get(b []byte) string {
	if *in == nil {
		*in = interner{}
	}
	if s, ok := (*in)[string(b)]; ok {
		return s
	}
	s := string(b)
	(*in)[s] = s
	return s
}
