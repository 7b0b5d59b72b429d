// Package migrations holds the numbered SQL migrations, embedded, and the
// function that applies them once under a PostgreSQL advisory lock, so
// several replicas starting together do not race.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed sql/*.sql
var files embed.FS

// ErrSchemaNewer means the database was migrated by a newer server.
var ErrSchemaNewer = errors.New("database schema is newer than this server")

// Status is the schema's state.
type Status struct {
	Current int64 // applied in the database
	Latest  int64 // known to this binary
	Pending []int64
}

func provider(pool *pgxpool.Pool) (*goose.Provider, *sql.DB, error) {
	db := stdlib.OpenDBFromPool(pool)
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, nil, err
	}
	sub, err := fs.Sub(files, "sql")
	if err != nil {
		return nil, nil, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker))
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return p, db, nil
}

// Apply brings the schema up to date. It refuses a database whose schema
// is newer than this binary knows.
func Apply(ctx context.Context, pool *pgxpool.Pool) (applied []int64, err error) {
	p, db, err := provider(pool)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	defer db.Close()
	if err := checkNotNewer(ctx, p); err != nil {
		return nil, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	for _, r := range res {
		applied = append(applied, r.Source.Version)
	}
	// River's own tables (the regrade queue) come after ours.
	if _, err := applyRiver(ctx, pool); err != nil {
		return applied, err
	}
	return applied, nil
}

// Check returns the schema status without changing anything.
func Check(ctx context.Context, pool *pgxpool.Pool) (Status, error) {
	p, db, err := provider(pool)
	if err != nil {
		return Status{}, fmt.Errorf("migrations: %w", err)
	}
	defer db.Close()
	var st Status
	if st.Current, err = p.GetDBVersion(ctx); err != nil {
		return st, fmt.Errorf("migrations: %w", err)
	}
	sources := p.ListSources()
	if len(sources) > 0 {
		st.Latest = sources[len(sources)-1].Version
	}
	results, err := p.Status(ctx)
	if err != nil {
		return st, fmt.Errorf("migrations: %w", err)
	}
	for _, r := range results {
		if r.State == goose.StatePending {
			st.Pending = append(st.Pending, r.Source.Version)
		}
	}
	return st, nil
}

func checkNotNewer(ctx context.Context, p *goose.Provider) error {
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	sources := p.ListSources()
	latest := int64(0)
	if len(sources) > 0 {
		latest = sources[len(sources)-1].Version
	}
	if current > latest {
		return fmt.Errorf("%w: the database is at version %d but this server knows only up to %d; run the newer server, or restore a backup made for this version", ErrSchemaNewer, current, latest)
	}
	return nil
}
