// Package storetest gives each test its own freshly migrated PostgreSQL
// database: on the server named by DATABASE_URL when set, otherwise on a
// throwaway local cluster started once per test binary. No mock anywhere.
package storetest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/coursekit/workshop/internal/testenv"
	"github.com/coursekit/workshop/migrations"
	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/store/localpg"
)

var (
	once     sync.Once
	baseURL  string // the server's maintenance database URL
	template string // a migrated database to copy
	startErr error
	local    *localpg.Server
	tmpDir   string
	counter  atomic.Int64
)

// Main runs the package's tests and then stops the throwaway cluster; call
// it from TestMain: func TestMain(m *testing.M) { storetest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	Shutdown()
	os.Exit(code)
}

// Shutdown stops the throwaway cluster, if one was started.
func Shutdown() {
	if local != nil {
		_ = local.Stop()
		local = nil
	}
	if tmpDir != "" {
		_ = os.RemoveAll(tmpDir)
	}
}

// URL returns the URL of a new, empty, migrated database for this test,
// dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(setup)
	testenv.Require(t, "PostgreSQL", startErr)
	name := fmt.Sprintf("t%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6, counter.Add(1))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, baseURL)
	if err != nil {
		t.Fatalf("storetest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, template)); err != nil {
		t.Fatalf("storetest: create database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), baseURL)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
	})
	return withDatabase(baseURL, name)
}

// New opens a fresh migrated database for this test, closed when it ends.
func New(t testing.TB) *store.DB {
	t.Helper()
	url := URL(t)
	db, err := store.Open(context.Background(), url, 10*time.Second)
	if err != nil {
		t.Fatalf("storetest: open: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

// ServerURL returns the URL of the maintenance database of the test server
// (for tests that create databases themselves), or skips / fails.
func ServerURL(t testing.TB) string {
	t.Helper()
	once.Do(setup)
	testenv.Require(t, "PostgreSQL", startErr)
	return baseURL
}

func setup() {
	ctx := context.Background()
	baseURL = os.Getenv("DATABASE_URL")
	if baseURL == "" {
		tmpDir, startErr = os.MkdirTemp("", "workshop-testpg-")
		if startErr != nil {
			return
		}
		_ = os.Chmod(tmpDir, 0o755)
		local, startErr = localpg.Start(ctx, localpg.Options{Dir: tmpDir})
		if startErr != nil {
			startErr = fmt.Errorf("no DATABASE_URL and no local cluster: %w", startErr)
			return
		}
		baseURL = local.URL("postgres")
	}
	template = fmt.Sprintf("tmpl_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	conn, err := pgx.Connect(ctx, baseURL)
	if err != nil {
		startErr = fmt.Errorf("connect to %s: %w", store.Where(baseURL), err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+template); err != nil {
		startErr = err
		return
	}
	pool, err := pgxpool.New(ctx, withDatabase(baseURL, template))
	if err != nil {
		startErr = err
		return
	}
	_, startErr = migrations.Apply(ctx, pool)
	pool.Close()
}

// withDatabase swaps the database name in a URL.
func withDatabase(url, name string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return url
	}
	if strings.HasPrefix(url, "postgres:///") || strings.HasPrefix(url, "postgresql:///") {
		i := strings.Index(url, "?")
		rest := ""
		if i >= 0 {
			rest = url[i:]
		}
		return "postgres:///" + name + rest
	}
	old := "/" + cfg.Database
	if i := strings.LastIndex(url, old); i >= 0 && cfg.Database != "" {
		return url[:i] + "/" + name + url[i+len(old):]
	}
	if i := strings.Index(url, "?"); i >= 0 {
		return url[:i] + "/" + name + url[i:]
	}
	return strings.TrimSuffix(url, "/") + "/" + name
}
