package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coursekit/workshop/internal/testenv"
	"github.com/coursekit/workshop/store/localpg"
	"github.com/coursekit/workshop/store/storetest"
)

// oneLineOutput fails unless out is exactly one line without a stack trace.
func oneLineOutput(t *testing.T, out string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 || lines[0] == "" {
		t.Fatalf("want exactly one line, got %d:\n%s", len(lines), out)
	}
	for _, bad := range []string{"goroutine", "panic", ".go:"} {
		if strings.Contains(out, bad) {
			t.Fatalf("output contains %q:\n%s", bad, out)
		}
	}
	return lines[0]
}

// TestProcessUnreachableDatabase: a DATABASE_URL pointing at nothing ends
// the start promptly with one line naming the host tried.
func TestProcessUnreachableDatabase(t *testing.T) {
	t.Parallel()
	data, addr := newDataDir(t), freeAddr(t)
	env := []string{"WORKSHOP_DATA=" + data, "WORKSHOP_ADDR=" + addr, "DATABASE_URL=postgres://u:secretpw@127.0.0.1:1/db"}
	start := time.Now()
	code, out := runProc(t, 10*time.Second, env)
	if code == 0 {
		t.Fatalf("exit code 0, want non-zero:\n%s", out)
	}
	line := oneLineOutput(t, out)
	if !strings.Contains(line, "127.0.0.1:1") {
		t.Errorf("the line does not name the host tried: %s", line)
	}
	if strings.Contains(line, "secretpw") {
		t.Errorf("the line shows the password: %s", line)
	}
	t.Logf("exit %d after %v: %s", code, time.Since(start).Round(time.Millisecond), line)
}

// TestProcessPortInUse: one clear line, non-zero exit, and no database
// started for nothing.
func TestProcessPortInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := newDataDir(t)
	code, out := runProc(t, 10*time.Second, privateEnv(data, ln.Addr().String()))
	if code == 0 {
		t.Fatalf("exit code 0, want non-zero:\n%s", out)
	}
	line := oneLineOutput(t, out)
	if !strings.Contains(line, "already in use") || !strings.Contains(line, ln.Addr().String()) {
		t.Errorf("unclear message: %s", line)
	}
	if _, err := os.Stat(data + "/postgres"); err == nil {
		t.Errorf("a private PostgreSQL was set up although the port was taken")
	}
}

// TestProcessMalformedConfig: a bad value names its variable (or flag) and
// the expected form, in one line, with exit code 2.
func TestProcessMalformedConfig(t *testing.T) {
	t.Parallel()
	data := newDataDir(t)
	tests := []struct {
		env  string
		args []string
		want []string
	}{
		{env: "WORKSHOP_LOG_LEVEL=loud", want: []string{"WORKSHOP_LOG_LEVEL", "debug, info, warn or error"}},
		{env: "WORKSHOP_LOG_FORMAT=xml", want: []string{"WORKSHOP_LOG_FORMAT", "text or json"}},
		{env: "WORKSHOP_SHUTDOWN_GRACE=abc", want: []string{"WORKSHOP_SHUTDOWN_GRACE", "duration such as 10s"}},
		{env: "WORKSHOP_ADDR=nonsense", want: []string{"WORKSHOP_ADDR", "host:port"}},
		{env: "WORKSHOP_ALLOW_PRIVATE=maybe", want: []string{"WORKSHOP_ALLOW_PRIVATE", "true or false"}},
		{env: "DATABASE_URL=mysql://x", want: []string{"DATABASE_URL", "postgres://"}},
		{env: "WORKSHOP_BASE_URL=course.example.org", want: []string{"WORKSHOP_BASE_URL", "absolute http(s) URL"}},
		{args: []string{"--allow-private=maybe"}, want: []string{"--allow-private", "true or false", "WORKSHOP_ALLOW_PRIVATE"}},
		{args: []string{"--shutdown-grace=soon"}, want: []string{"--shutdown-grace", "duration such as 10s"}},
		{args: []string{"--no-such-flag"}, want: []string{"no-such-flag", "-h"}},
		{args: []string{"migrate", "--log-level=loud"}, want: []string{"WORKSHOP_LOG_LEVEL", "debug, info, warn or error"}},
	}
	for _, tt := range tests {
		name := tt.env + strings.Join(tt.args, " ")
		t.Run(name, func(t *testing.T) {
			env := []string{"WORKSHOP_DATA=" + data, "WORKSHOP_ADDR=" + "127.0.0.1:1"}
			if tt.env != "" {
				env = append(env, tt.env)
			}
			code, out := runProc(t, 10*time.Second, env, tt.args...)
			if code != 2 {
				t.Errorf("exit code %d, want 2:\n%s", code, out)
			}
			line := oneLineOutput(t, out)
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("the message does not contain %q: %s", w, line)
				}
			}
		})
	}
}

// TestProcessDatabaseRestart: while the database is down /readyz says not
// ready (503); when it returns the server recovers by itself.
func TestProcessDatabaseRestart(t *testing.T) {
	requirePostgres(t)
	t.Parallel()
	dir := newDataDir(t)
	ctx := context.Background()
	pg, err := localpg.Start(ctx, localpg.Options{Dir: dir + "/pg"})
	testenv.Require(t, "PostgreSQL", err)
	t.Cleanup(func() { _ = pg.Stop() })

	addr := freeAddr(t)
	base := "http://" + addr
	p := startProc(t, []string{"WORKSHOP_DATA=" + dir + "/data", "WORKSHOP_ADDR=" + addr, "DATABASE_URL=" + pg.URL("postgres")})
	waitStatus(t, p, base+"/readyz", http.StatusOK, 15*time.Second)
	for _, path := range databasePages {
		if code, body := get(base + path); code != http.StatusNotFound {
			t.Fatalf("%s with the database up: %d, want 404 (an unknown invite)\n%s", path, code, body)
		}
	}

	if err := pg.Stop(); err != nil {
		t.Fatalf("stop PostgreSQL: %v", err)
	}
	took := waitStatus(t, p, base+"/readyz", http.StatusServiceUnavailable, 20*time.Second)
	t.Logf("/readyz said 503 %v after PostgreSQL stopped", took.Round(time.Millisecond))
	if code, body := get(base + "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "not ready") {
		t.Errorf("/readyz while down: %d %s", code, body)
	}
	for _, path := range databasePages {
		code, body := get(base + path)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "<html") || !strings.Contains(body, "database is not reachable") {
			t.Errorf("%s while the database is down: %d, want a 503 page saying so\n%s", path, code, body)
		}
	}
	if code, _ := get(base + "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz while the database is down: %d, want 200 (the process is alive)", code)
	}

	pg, err = localpg.Start(ctx, localpg.Options{Dir: dir + "/pg"})
	if err != nil {
		t.Fatalf("restart PostgreSQL: %v", err)
	}
	took = waitStatus(t, p, base+"/readyz", http.StatusOK, 10*time.Second)
	t.Logf("/readyz said 200 %v after PostgreSQL returned", took.Round(time.Millisecond))
	for _, path := range databasePages {
		if code, body := get(base + path); code != http.StatusNotFound {
			t.Errorf("%s after the database returned: %d, want 404 again\n%s", path, code, body)
		}
	}
	p.stop()
}

// databasePages are public pages that read the database: 404 for an
// unknown invite code while it is up, a 503 page while it is down.
var databasePages = []string{"/join/ABCD2345"}

// freshDatabase creates an empty database on the test server and returns
// its URL.
func freshDatabase(t *testing.T) string {
	t.Helper()
	admin := storetest.ServerURL(t)
	name := fmt.Sprintf("proc_%d_%d", os.Getpid(), time.Now().UnixNano())
	sqlExec(t, admin, "CREATE DATABASE "+name)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, admin); err == nil {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			_ = conn.Close(ctx)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// TestProcessTwoReplicasStartTogether: two servers on one fresh database
// both come up, and the migrations run exactly once.
func TestProcessTwoReplicasStartTogether(t *testing.T) {
	t.Parallel()
	dbURL := freshDatabase(t)
	var procs []*proc
	var bases []string
	for i := 0; i < 2; i++ {
		addr := freeAddr(t)
		env := []string{"WORKSHOP_DATA=" + newDataDir(t), "WORKSHOP_ADDR=" + addr, "DATABASE_URL=" + dbURL}
		procs = append(procs, startProc(t, env))
		bases = append(bases, "http://"+addr)
	}
	for i, p := range procs {
		waitStatus(t, p, bases[i]+"/readyz", http.StatusOK, 15*time.Second)
	}
	applied := 0
	for _, p := range procs {
		if strings.Contains(p.out.String(), "migrations applied") {
			applied++
		}
	}
	if applied != 1 {
		t.Errorf("%d servers applied migrations, want exactly 1", applied)
	}
	if n := sqlInt(t, dbURL, `SELECT count(*) FROM goose_db_version WHERE version_id = 1`); n != 1 {
		t.Errorf("migration 1 recorded %d times, want 1", n)
	}
	for _, p := range procs {
		p.stop()
	}
}

// TestProcessSchemaNewer: a database migrated by a newer server makes this
// one refuse to start, saying why.
func TestProcessSchemaNewer(t *testing.T) {
	t.Parallel()
	dbURL := storetest.URL(t)
	sqlExec(t, dbURL, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)`)
	env := []string{"WORKSHOP_DATA=" + newDataDir(t), "WORKSHOP_ADDR=" + freeAddr(t), "DATABASE_URL=" + dbURL}
	for _, args := range [][]string{nil, {"migrate", "apply"}, {"migrate", "status"}} {
		code, out := runProc(t, 15*time.Second, env, args...)
		if code == 0 {
			t.Fatalf("workshop %v: exit 0 on a newer schema:\n%s", args, out)
		}
		line := oneLineOutput(t, out)
		if !strings.Contains(line, "newer") || !strings.Contains(line, "99999") {
			t.Errorf("workshop %v: the message does not say the schema is newer: %s", args, line)
		}
	}
}
