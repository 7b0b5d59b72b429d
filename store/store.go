// Package store holds every SQL statement of the server: the pgx pool,
// transactions, typed errors and secrets encrypted at rest.
package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Typed errors callers can test with errors.Is.
var (
	// ErrNotFound: the row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the change collides with existing data (a unique key).
	ErrConflict = errors.New("conflict")
)

// DB is the shared connection pool.
type DB struct {
	Pool   *pgxpool.Pool
	sealer *Sealer
}

// SetSealer sets the key that seals secrets at rest; targets cannot be
// saved or read with secrets before it is set.
func (db *DB) SetSealer(s *Sealer) { db.sealer = s }

// Querier is what both a pool and a transaction offer, so store methods
// can run inside or outside Transact.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Open connects to databaseURL and checks the connection within timeout.
// The error names the host it tried, never the password.
func Open(ctx context.Context, databaseURL string, timeout time.Duration) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL is not a valid PostgreSQL URL (postgres://user:pass@host:5432/db): %v", redact(err))
	}
	cfg.MaxConns = 20
	cfg.ConnConfig.ConnectTimeout = timeout
	cfg.HealthCheckPeriod = 5 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database at %s: %v", Where(databaseURL), redact(err))
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot reach the database at %s: %v", Where(databaseURL), redact(err))
	}
	return &DB{Pool: pool}, nil
}

// Where describes the server a URL points at (host and database, or the
// socket folder), without credentials.
func Where(databaseURL string) string {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return "(unparsable URL)"
	}
	host := cfg.Host
	if strings.HasPrefix(host, "/") {
		return fmt.Sprintf("unix socket in %s, database %s", host, cfg.Database)
	}
	return fmt.Sprintf("%s:%d, database %s", host, cfg.Port, cfg.Database)
}

func redact(err error) string {
	msg := err.Error()
	if u, perr := url.Parse(msg); perr == nil && u.User != nil {
		return u.Redacted()
	}
	return msg
}

// Close closes the pool.
func (db *DB) Close() { db.Pool.Close() }

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.Pool.Ping(ctx) }

// Transact runs fn in a transaction: committed when fn returns nil, rolled
// back otherwise (and on panic).
func (db *DB) Transact(ctx context.Context, fn func(tx pgx.Tx) error) (err error) {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback(ctx)
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback(ctx)
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// mapErr turns driver errors into the package's typed errors.
func mapErr(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "23P01") {
		return fmt.Errorf("%w: %s", ErrConflict, pgErr.ConstraintName)
	}
	return err
}

// IsUnavailable reports whether err means the database cannot be reached
// right now (restarting, network), as opposed to a bad query.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08 (connection exception), 57P0x (shutdown, cannot connect now).
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P")
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return true
	}
	return pgconn.SafeToRetry(err) || errors.Is(err, context.DeadlineExceeded) ||
		strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "closed pool") ||
		strings.Contains(err.Error(), "unexpected EOF") || strings.Contains(err.Error(), "no such file or directory")
}
