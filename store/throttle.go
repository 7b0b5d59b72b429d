package store

import (
	"context"
	"fmt"
	"time"
)

// ThrottleHit counts one attempt against key in a fixed window and
// returns the count within the current window and when the window ends.
// Counting before the password is checked makes concurrent attempts on
// several replicas add up exactly.
func (db *DB) ThrottleHit(ctx context.Context, key string, window time.Duration) (count int, resetAt time.Time, err error) {
	err = db.Pool.QueryRow(ctx, `
		INSERT INTO login_throttle AS t (key, window_start, failures) VALUES ($1, now(), 1)
		ON CONFLICT (key) DO UPDATE SET
		    failures     = CASE WHEN t.window_start + $2 <= now() THEN 1 ELSE t.failures + 1 END,
		    window_start = CASE WHEN t.window_start + $2 <= now() THEN now() ELSE t.window_start END
		RETURNING failures, window_start + $2`, key, window).Scan(&count, &resetAt)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: throttle %s: %w", key, err)
	}
	return count, resetAt, nil
}

// ThrottleForgive takes one attempt back from key (a successful sign-in
// should not count against a shared address).
func (db *DB) ThrottleForgive(ctx context.Context, key string) error {
	if _, err := db.Pool.Exec(ctx, `UPDATE login_throttle SET failures = greatest(failures - 1, 0) WHERE key = $1`, key); err != nil {
		return fmt.Errorf("store: throttle forgive: %w", err)
	}
	return nil
}

// ThrottleReset clears key (an account after a successful sign-in).
func (db *DB) ThrottleReset(ctx context.Context, key string) error {
	if _, err := db.Pool.Exec(ctx, `DELETE FROM login_throttle WHERE key = $1`, key); err != nil {
		return fmt.Errorf("store: throttle reset: %w", err)
	}
	return nil
}

// DeleteOldThrottles removes windows that ended before the cutoff.
func (db *DB) DeleteOldThrottles(ctx context.Context, before time.Time) error {
	if _, err := db.Pool.Exec(ctx, `DELETE FROM login_throttle WHERE window_start < $1`, before); err != nil {
		return fmt.Errorf("store: delete old throttles: %w", err)
	}
	return nil
}
