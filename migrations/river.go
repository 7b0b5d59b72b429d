package migrations

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// riverLockKey is the advisory lock taken while River's schema is
// migrated: rivermigrate takes none of its own, and replicas start
// together.
const riverLockKey = 7_234_001

// applyRiver brings the schema of River (the job queue behind cohort
// regrades) up to date under a session advisory lock. Each River version
// runs in its own transaction, as River requires: some add an enum value
// that a later statement uses, which one transaction refuses.
func applyRiver(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return 0, fmt.Errorf("migrations: river: %w", err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrations: river: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, riverLockKey); err != nil {
		return 0, fmt.Errorf("migrations: river: lock: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, riverLockKey) }()
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return 0, fmt.Errorf("migrations: river: %w", err)
	}
	return len(res.Versions), nil
}
