package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coursekit/workshop/migrations"
	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/store/localpg"
)

// database is an open store plus whatever must be stopped after it.
type database struct {
	*store.DB
	local *localpg.Server
}

// openDatabase connects to DATABASE_URL, or starts the private PostgreSQL
// in the data folder when it is empty, and applies pending migrations
// when migrate is set. With share, a command run while the server runs
// on the same data folder uses the server's PostgreSQL; without it (the
// server itself) that is an error naming the other process. Its error is
// one line.
func openDatabase(ctx context.Context, cfg *Config, log *slog.Logger, migrate, share bool) (*database, error) {
	d, err := connectDatabase(ctx, cfg, log, migrate, share)
	if err != nil {
		return nil, oneLineError{err}
	}
	return d, nil
}

// oneLineError folds a multi-line error (pgx lists every address it tried
// on its own line) into one line, dropping repeated parts.
type oneLineError struct{ err error }

func (e oneLineError) Error() string {
	var parts []string
	for _, l := range strings.Split(e.err.Error(), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || (len(parts) > 0 && parts[len(parts)-1] == l) {
			continue
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, " ")
}

func (e oneLineError) Unwrap() error { return e.err }

func connectDatabase(ctx context.Context, cfg *Config, log *slog.Logger, migrate, share bool) (*database, error) {
	d := &database{}
	url := cfg.DatabaseURL
	if url == "" {
		dir := filepath.Join(cfg.DataDir, "postgres")
		start := time.Now()
		srv, err := localpg.Start(ctx, localpg.Options{Dir: dir, Share: share})
		if err != nil {
			return nil, fmt.Errorf("private PostgreSQL: %w", err)
		}
		d.local = srv
		if srv.Shared() {
			log.Info("using the private PostgreSQL of the server running on this data folder", "dir", srv.DataDir, "socket", srv.SocketDir)
		} else {
			log.Info("private PostgreSQL started", "dir", srv.DataDir, "socket", srv.SocketDir, "took", time.Since(start).Round(time.Millisecond))
		}
		if err := ensureDatabase(ctx, srv.URL("postgres"), "workshop"); err != nil {
			d.Close()
			return nil, err
		}
		url = srv.URL("workshop")
	}
	// Under 10 s, so an unreachable DATABASE_URL ends the start promptly.
	db, err := store.Open(ctx, url, 8*time.Second)
	if err != nil {
		d.Close()
		return nil, err
	}
	d.DB = db
	if migrate {
		applied, err := migrations.Apply(ctx, db.Pool)
		if err != nil {
			d.Close()
			return nil, err
		}
		if len(applied) > 0 {
			log.Info("migrations applied", "versions", applied)
		}
	} else if st, err := migrations.Check(ctx, db.Pool); err == nil && st.Current > st.Latest {
		d.Close()
		return nil, fmt.Errorf("%w: the database is at version %d but this server knows only up to %d", migrations.ErrSchemaNewer, st.Current, st.Latest)
	}
	return d, nil
}

// Close closes the pool, then stops the private PostgreSQL.
func (d *database) Close() {
	if d.DB != nil {
		d.DB.Close()
		d.DB = nil
	}
	if d.local != nil {
		_ = d.local.Stop()
		d.local = nil
	}
}

func ensureDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("private PostgreSQL: connect: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("private PostgreSQL: %w", err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("private PostgreSQL: create database: %w", err)
	}
	return nil
}

var errUsage = errors.New("usage")
