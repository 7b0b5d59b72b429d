package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Regrade is one run of a step's checks for every student of a cohort,
// done in the background; Done and Failed count the students finished.
type Regrade struct {
	ID          int64
	CohortID    int64
	StepID      string
	RequestedBy *int64
	Total       int
	Done        int
	Failed      int
	Cancelled   int // students not reached when it was cancelled
	CreatedAt   time.Time
	FinishedAt  *time.Time
	CancelledAt *time.Time
}

// Finished reports whether every student's run is over (or cancelled).
func (r Regrade) Finished() bool { return r.Done+r.Failed+r.Cancelled >= r.Total }

// RegradeEvent is announced on EventsChannel when a regrade advances; it
// has the fields of Event (Kind "regrade") and the counts.
type RegradeEvent struct {
	Event
	RegradeID int64 `json:"regrade_id"`
	Total     int   `json:"total"`
	Done      int   `json:"done"`
	Failed    int   `json:"failed"`
	Cancelled int   `json:"cancelled"`
}

const regradeColumns = `id, cohort_id, step_id, requested_by, total, done, failed, cancelled, created_at, finished_at, cancelled_at`

func scanRegrade(row pgx.Row) (*Regrade, error) {
	var r Regrade
	if err := row.Scan(&r.ID, &r.CohortID, &r.StepID, &r.RequestedBy, &r.Total, &r.Done, &r.Failed, &r.Cancelled,
		&r.CreatedAt, &r.FinishedAt, &r.CancelledAt); err != nil {
		return nil, mapErr(err)
	}
	return &r, nil
}

// CreateRegrade records a regrade of a step for the cohort's current
// students inside tx (the caller queues the jobs in the same transaction)
// and returns it with the students' ids.
func CreateRegrade(ctx context.Context, tx pgx.Tx, cohortID int64, stepID string, by int64) (*Regrade, []int64, error) {
	r, err := scanRegrade(tx.QueryRow(ctx, `
		INSERT INTO regrades (cohort_id, step_id, requested_by, total)
		VALUES ($1, $2, $3, (SELECT count(*) FROM cohort_members WHERE cohort_id = $1 AND role = 'student'))
		RETURNING `+regradeColumns, cohortID, stepID, by))
	if err != nil {
		return nil, nil, fmt.Errorf("store: create regrade: %w", err)
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO regrade_items (regrade_id, user_id)
		SELECT $1, user_id FROM cohort_members WHERE cohort_id = $2 AND role = 'student'
		RETURNING user_id`, r.ID, cohortID)
	if err != nil {
		return nil, nil, fmt.Errorf("store: create regrade: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, nil, fmt.Errorf("store: create regrade: %w", err)
	}
	r.Total = len(ids)
	if r.Total == 0 {
		if _, err := tx.Exec(ctx, `UPDATE regrades SET finished_at = now() WHERE id = $1`, r.ID); err != nil {
			return nil, nil, fmt.Errorf("store: create regrade: %w", err)
		}
	}
	return r, ids, nil
}

// FinishRegradeItem marks one student of a regrade done (or failed) and
// announces the new counts; a second call for the same student (a job run
// again after a restart) changes nothing.
func (db *DB) FinishRegradeItem(ctx context.Context, regradeID, userID int64, failed bool) (*Regrade, error) {
	state := "done"
	if failed {
		state = "failed"
	}
	var out *Regrade
	err := db.Transact(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE regrade_items SET state = $3, finished_at = now()
			WHERE regrade_id = $1 AND user_id = $2 AND state = 'pending'`, regradeID, userID, state)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			out, err = scanRegrade(tx.QueryRow(ctx, `SELECT `+regradeColumns+` FROM regrades WHERE id = $1`, regradeID))
			return err
		}
		out, err = scanRegrade(tx.QueryRow(ctx, `
			UPDATE regrades SET done = done + $2, failed = failed + $3,
			       finished_at = CASE WHEN done + failed + cancelled + 1 >= total THEN now() END
			WHERE id = $1 RETURNING `+regradeColumns, regradeID, boolInt(!failed), boolInt(failed)))
		if err != nil {
			return err
		}
		return announceRegrade(ctx, tx, out)
	})
	if err != nil {
		return nil, fmt.Errorf("store: finish regrade item: %w", err)
	}
	return out, nil
}

// announceRegrade tells every replica's dashboards the regrade's counts.
func announceRegrade(ctx context.Context, tx pgx.Tx, r *Regrade) error {
	payload, _ := json.Marshal(RegradeEvent{Event: Event{Kind: "regrade", CohortID: r.CohortID, StepID: r.StepID},
		RegradeID: r.ID, Total: r.Total, Done: r.Done, Failed: r.Failed, Cancelled: r.Cancelled})
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, EventsChannel, string(payload))
	return err
}

// CancelRegrade stops a regrade of the cohort: every student it has not
// finished is counted as cancelled, so their queued jobs end without
// running (a check already running completes and is stored, but no longer
// counts). Cancelling a finished regrade changes nothing. ErrNotFound when
// the cohort has no such regrade.
func (db *DB) CancelRegrade(ctx context.Context, cohortID, regradeID, by int64) (*Regrade, error) {
	var out *Regrade
	err := db.Transact(ctx, func(tx pgx.Tx) error {
		r, err := scanRegrade(tx.QueryRow(ctx, `SELECT `+regradeColumns+` FROM regrades
			WHERE id = $1 AND cohort_id = $2 FOR UPDATE`, regradeID, cohortID))
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE regrade_items SET state = 'cancelled', finished_at = now()
			WHERE regrade_id = $1 AND state = 'pending'`, regradeID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			out = r
			return nil
		}
		out, err = scanRegrade(tx.QueryRow(ctx, `
			UPDATE regrades SET cancelled = cancelled + $2, cancelled_at = now(), cancelled_by = $3, finished_at = now()
			WHERE id = $1 RETURNING `+regradeColumns, regradeID, tag.RowsAffected(), by))
		if err != nil {
			return err
		}
		return announceRegrade(ctx, tx, out)
	})
	if err != nil {
		return nil, fmt.Errorf("store: cancel regrade: %w", err)
	}
	return out, nil
}

// RegradeItemPending reports whether a student's part of a regrade is
// still to run (not finished, not cancelled).
func (db *DB) RegradeItemPending(ctx context.Context, regradeID, userID int64) (bool, error) {
	var pending bool
	err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM regrade_items
		WHERE regrade_id = $1 AND user_id = $2 AND state = 'pending')`, regradeID, userID).Scan(&pending)
	if err != nil {
		return false, fmt.Errorf("store: regrade item: %w", err)
	}
	return pending, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// RegradeByID returns one regrade.
func (db *DB) RegradeByID(ctx context.Context, id int64) (*Regrade, error) {
	r, err := scanRegrade(db.Pool.QueryRow(ctx, `SELECT `+regradeColumns+` FROM regrades WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: regrade %d: %w", id, err)
	}
	return r, nil
}

// RecentRegrades returns a cohort's latest regrades, newest first.
func (db *DB) RecentRegrades(ctx context.Context, cohortID int64, limit int) ([]Regrade, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+regradeColumns+` FROM regrades WHERE cohort_id = $1
		ORDER BY created_at DESC, id DESC LIMIT $2`, cohortID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: recent regrades: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Regrade, error) {
		g, err := scanRegrade(r)
		if err != nil {
			return Regrade{}, err
		}
		return *g, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: recent regrades: %w", err)
	}
	return out, nil
}
