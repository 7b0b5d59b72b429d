package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ImportRuns bulk-loads check runs with COPY (demo data, migrations from
// another system). Runs with the same BatchID (any local numbering) share
// one real batch id from the sequence. The per-check summaries follow
// through the trigger; no event is announced.
func (db *DB) ImportRuns(ctx context.Context, runs []CheckRun) error {
	if len(runs) == 0 {
		return nil
	}
	err := db.Transact(ctx, func(tx pgx.Tx) error {
		local := map[int64]int64{}
		for _, r := range runs {
			local[r.BatchID] = 0
		}
		var last int64
		// Reserve as many batch ids as there are local batches.
		if err := tx.QueryRow(ctx, `SELECT setval('check_batch_seq', nextval('check_batch_seq') + $1 - 1)`, len(local)).Scan(&last); err != nil {
			return err
		}
		next := last - int64(len(local)) + 1
		rows := make([][]any, len(runs))
		for i, r := range runs {
			id := local[r.BatchID]
			if id == 0 {
				id, next = next, next+1
				local[r.BatchID] = id
			}
			evidence, _ := json.Marshal(nonNil(r.Evidence))
			if r.Source == "" {
				r.Source = "student"
			}
			rows[i] = []any{r.UserID, r.CohortID, id, r.StepID, r.CheckID, r.Status, r.Kind, r.Title, r.Summary, evidence, r.Hint, r.Source,
				r.StartedAt, int32(r.Duration.Milliseconds())}
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"check_runs"},
			[]string{"user_id", "cohort_id", "batch_id", "step_id", "check_id", "status", "kind", "title", "summary", "evidence", "hint", "source", "started_at", "duration_ms"},
			pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: import runs: %w", err)
	}
	return nil
}

// ImportAttempts bulk-loads scored quiz attempts with COPY; CreatedAt is
// kept as given.
func (db *DB) ImportAttempts(ctx context.Context, attempts []QuizAttempt) error {
	rows := make([][]any, len(attempts))
	for i, a := range attempts {
		answers := []byte("{}")
		if a.Answers != nil {
			answers, _ = json.Marshal(a.Answers)
		}
		results := a.Results
		if results == nil {
			results = json.RawMessage("[]")
		}
		rows[i] = []any{a.UserID, a.CohortID, a.QuizID, answers, []byte(results), float32(a.Score), int32(a.Correct), int32(a.Total), a.CreatedAt}
	}
	_, err := db.Pool.CopyFrom(ctx, pgx.Identifier{"quiz_attempts"},
		[]string{"user_id", "cohort_id", "quiz_id", "answers", "results", "score", "correct", "total", "created_at"}, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("store: import attempts: %w", err)
	}
	return nil
}
