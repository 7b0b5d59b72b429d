package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// EventsChannel is the LISTEN/NOTIFY channel on which every replica hears
// that a student's results changed.
const EventsChannel = "workshop_events"

// Event is the payload announced on EventsChannel.
type Event struct {
	Kind     string `json:"kind"` // "check", "quiz", or "member" (someone joined or left the cohort)
	UserID   int64  `json:"user_id"`
	CohortID int64  `json:"cohort_id,omitempty"`
	StepID   string `json:"step_id,omitempty"`
	QuizID   string `json:"quiz_id,omitempty"`
}

// CheckRun is one stored run of one check.
type CheckRun struct {
	ID        int64
	UserID    int64
	CohortID  *int64
	BatchID   int64
	StepID    string
	CheckID   string
	Status    string
	Kind      string
	Title     string
	Summary   string
	Evidence  []string
	Hint      string
	Source    string
	StartedAt time.Time
	Duration  time.Duration
}

// RecordRuns stores the results of one press of "Check my work" as one
// batch and announces it to every replica, in one transaction.
func (db *DB) RecordRuns(ctx context.Context, runs []CheckRun) (batchID int64, err error) {
	if len(runs) == 0 {
		return 0, nil
	}
	err = db.Transact(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT nextval('check_batch_seq')`).Scan(&batchID); err != nil {
			return err
		}
		for _, r := range runs {
			evidence, _ := json.Marshal(nonNil(r.Evidence))
			if r.Source == "" {
				r.Source = "student"
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO check_runs (user_id, cohort_id, batch_id, step_id, check_id, status, kind, title, summary, evidence, hint, source, started_at, duration_ms)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
				r.UserID, r.CohortID, batchID, r.StepID, r.CheckID, r.Status, r.Kind, r.Title, r.Summary, evidence, r.Hint, r.Source, r.StartedAt, r.Duration.Milliseconds()); err != nil {
				return err
			}
		}
		ev := Event{Kind: "check", UserID: runs[0].UserID, StepID: runs[0].StepID}
		if runs[0].CohortID != nil {
			ev.CohortID = *runs[0].CohortID
		}
		return notify(ctx, tx, ev)
	})
	if err != nil {
		return 0, fmt.Errorf("store: record runs for step %s: %w", runs[0].StepID, mapErr(err))
	}
	return batchID, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func notify(ctx context.Context, q Querier, ev Event) error {
	payload, _ := json.Marshal(ev)
	_, err := q.Exec(ctx, `SELECT pg_notify($1, $2)`, EventsChannel, string(payload))
	return err
}

const runColumns = `id, user_id, cohort_id, batch_id, step_id, check_id, status, kind, title, summary, evidence, hint, source, started_at, duration_ms`

func scanRuns(rows pgx.Rows) ([]CheckRun, error) {
	defer rows.Close()
	var out []CheckRun
	for rows.Next() {
		var r CheckRun
		var evidence []byte
		var ms int64
		if err := rows.Scan(&r.ID, &r.UserID, &r.CohortID, &r.BatchID, &r.StepID, &r.CheckID, &r.Status, &r.Kind, &r.Title, &r.Summary, &evidence, &r.Hint, &r.Source, &r.StartedAt, &ms); err != nil {
			return nil, err
		}
		_ = json.Unmarshal(evidence, &r.Evidence)
		r.Duration = time.Duration(ms) * time.Millisecond
		out = append(out, r)
	}
	return out, rows.Err()
}

// LatestRuns returns the last run of every check of every step for a
// student: the state progress is derived from.
func (db *DB) LatestRuns(ctx context.Context, userID int64) ([]CheckRun, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT DISTINCT ON (step_id, check_id) `+runColumns+`
		FROM check_runs WHERE user_id = $1
		ORDER BY step_id, check_id, started_at DESC, id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: latest runs for %d: %w", userID, err)
	}
	runs, err := scanRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("store: latest runs for %d: %w", userID, err)
	}
	return runs, nil
}

// StepHistory returns a student's runs of one step, newest first.
func (db *DB) StepHistory(ctx context.Context, userID int64, stepID string, limit int) ([]CheckRun, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT `+runColumns+` FROM check_runs
		WHERE user_id = $1 AND step_id = $2
		ORDER BY started_at DESC, id DESC LIMIT $3`, userID, stepID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: history of %s for %d: %w", stepID, userID, err)
	}
	runs, err := scanRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("store: history of %s for %d: %w", stepID, userID, err)
	}
	return runs, nil
}

// LastCheckAt returns when the student last ran a step's checks (zero if
// never), for the per-step rate limit shared by every replica.
func (db *DB) LastCheckAt(ctx context.Context, userID int64, stepID string) (time.Time, error) {
	var t *time.Time
	err := db.Pool.QueryRow(ctx, `SELECT max(started_at) FROM check_runs WHERE user_id = $1 AND step_id = $2 AND source = 'student'`, userID, stepID).Scan(&t)
	if err != nil || t == nil {
		return time.Time{}, err
	}
	return *t, nil
}

// QuizAttempt is one scored submission of a quiz.
type QuizAttempt struct {
	ID        int64
	UserID    int64
	CohortID  *int64
	QuizID    string
	Answers   map[string][]string
	Results   json.RawMessage
	Score     float64
	Correct   int
	Total     int
	CreatedAt time.Time
}

// RecordAttempt stores a scored attempt and announces it.
func (db *DB) RecordAttempt(ctx context.Context, a QuizAttempt) (int64, error) {
	answers, _ := json.Marshal(a.Answers)
	results := a.Results
	if results == nil {
		results = json.RawMessage("[]")
	}
	var id int64
	err := db.Transact(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `
			INSERT INTO quiz_attempts (user_id, cohort_id, quiz_id, answers, results, score, correct, total)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			a.UserID, a.CohortID, a.QuizID, answers, []byte(results), a.Score, a.Correct, a.Total).Scan(&id); err != nil {
			return err
		}
		ev := Event{Kind: "quiz", UserID: a.UserID, QuizID: a.QuizID}
		if a.CohortID != nil {
			ev.CohortID = *a.CohortID
		}
		return notify(ctx, tx, ev)
	})
	if err != nil {
		return 0, fmt.Errorf("store: record attempt at %s: %w", a.QuizID, mapErr(err))
	}
	return id, nil
}

// QuizScore is a student's best and latest score on one quiz.
type QuizScore struct {
	QuizID   string
	Best     float64
	Latest   float64
	Attempts int
	LastAt   time.Time
}

// QuizScores returns the best and latest score of every quiz the student
// attempted.
func (db *DB) QuizScores(ctx context.Context, userID int64) (map[string]QuizScore, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT quiz_id, max(score), (array_agg(score ORDER BY created_at DESC, id DESC))[1], count(*), max(created_at)
		FROM quiz_attempts WHERE user_id = $1 GROUP BY quiz_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: quiz scores for %d: %w", userID, err)
	}
	defer rows.Close()
	out := map[string]QuizScore{}
	for rows.Next() {
		var q QuizScore
		var best, latest float32
		if err := rows.Scan(&q.QuizID, &best, &latest, &q.Attempts, &q.LastAt); err != nil {
			return nil, fmt.Errorf("store: quiz scores for %d: %w", userID, err)
		}
		q.Best, q.Latest = float64(best), float64(latest)
		out[q.QuizID] = q
	}
	return out, rows.Err()
}

// QuizAttempts returns a student's attempts at one quiz (or all quizzes
// when quizID is empty), newest first.
func (db *DB) QuizAttempts(ctx context.Context, userID int64, quizID string, limit int) ([]QuizAttempt, error) {
	rows, err := db.Pool.Query(ctx, `
		SELECT id, user_id, cohort_id, quiz_id, answers, results, score, correct, total, created_at
		FROM quiz_attempts WHERE user_id = $1 AND ($2 = '' OR quiz_id = $2)
		ORDER BY created_at DESC, id DESC LIMIT $3`, userID, quizID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: attempts for %d: %w", userID, err)
	}
	defer rows.Close()
	var out []QuizAttempt
	for rows.Next() {
		var a QuizAttempt
		var answers, results []byte
		var score float32
		if err := rows.Scan(&a.ID, &a.UserID, &a.CohortID, &a.QuizID, &answers, &results, &score, &a.Correct, &a.Total, &a.CreatedAt); err != nil {
			return nil, fmt.Errorf("store: attempts for %d: %w", userID, err)
		}
		a.Score = float64(score)
		_ = json.Unmarshal(answers, &a.Answers)
		a.Results = results
		out = append(out, a)
	}
	return out, rows.Err()
}
