package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var schemaLine = regexp.MustCompile(`schema version (\d+) \(this server knows up to (\d+)\)`)

// schemaVersions reads "schema version N (this server knows up to M)".
func schemaVersions(t *testing.T, out string) (current, latest int) {
	t.Helper()
	m := schemaLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no schema version in the output:\n%s", out)
	}
	current, _ = strconv.Atoi(m[1])
	latest, _ = strconv.Atoi(m[2])
	return current, latest
}

// TestMigrateStatusAndApply: status changes nothing and shows what is
// pending; apply brings the schema up to date; both print the version.
func TestMigrateStatusAndApply(t *testing.T) {
	t.Parallel()
	dbURL := freshDatabase(t)
	env := []string{"WORKSHOP_DATA=" + newDataDir(t), "DATABASE_URL=" + dbURL}

	code, out := runProc(t, 15*time.Second, env, "migrate", "status")
	if code != 0 {
		t.Fatalf("migrate status: exit %d:\n%s", code, out)
	}
	current, latest := schemaVersions(t, out)
	if current != 0 || latest < 1 || !strings.Contains(out, "pending: [1") {
		t.Errorf("migrate status on an empty database: current %d, latest %d:\n%s", current, latest, out)
	}
	if n := sqlInt(t, dbURL, `SELECT count(*) FROM pg_tables WHERE tablename = 'settings'`); n != 0 {
		t.Errorf("migrate status created tables")
	}

	code, out = runProc(t, 15*time.Second, env, "migrate", "apply")
	if code != 0 {
		t.Fatalf("migrate apply: exit %d:\n%s", code, out)
	}
	if current, latest = schemaVersions(t, out); current != latest || !strings.Contains(out, "up to date") {
		t.Errorf("after migrate apply: current %d, latest %d:\n%s", current, latest, out)
	}
	if v := sqlInt(t, dbURL, `SELECT max(version_id) FROM goose_db_version WHERE is_applied`); int(v) != latest {
		t.Errorf("goose_db_version says %d, want %d", v, latest)
	}

	// "migrate" alone applies too, and a second run has nothing to do.
	code, out = runProc(t, 15*time.Second, env, "migrate")
	if code != 0 {
		t.Fatalf("migrate: exit %d:\n%s", code, out)
	}
	if c, _ := schemaVersions(t, out); c != latest || strings.Contains(out, "migrations applied") {
		t.Errorf("second migrate: %s", out)
	}

	code, out = runProc(t, 15*time.Second, env, "migrate", "status")
	if c, _ := schemaVersions(t, out); code != 0 || c != latest || !strings.Contains(out, "up to date") {
		t.Errorf("migrate status after apply: exit %d:\n%s", code, out)
	}

	if code, out := runProc(t, 30*time.Second, env, "migrate", "sideways"); code != 2 || !strings.Contains(out, "apply or status") {
		t.Errorf("migrate sideways: exit %d, want 2 naming the actions:\n%s", code, out)
	}
}

// TestMigrateVersionCommand: the version set at build time is printed.
func TestMigrateVersionCommand(t *testing.T) {
	t.Parallel()
	code, out := runProc(t, 30*time.Second, nil, "version")
	if code != 0 || strings.TrimSpace(out) != "workshop "+testVersion {
		t.Errorf("workshop version: exit %d, output %q, want %q", code, out, "workshop "+testVersion)
	}
	code, out = runProc(t, 30*time.Second, nil, "frobnicate")
	if code != 2 || !strings.Contains(out, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d:\n%s", code, out)
	}
	code, out = runProc(t, 30*time.Second, nil, "help")
	if code != 0 || !strings.Contains(out, "workshop migrate") || !strings.Contains(out, "workshop healthcheck") {
		t.Errorf("help: exit %d:\n%s", code, out)
	}
}

// TestMigrateHealthURL: a server listening on every interface is asked on
// loopback.
func TestMigrateHealthURL(t *testing.T) {
	tests := []struct{ addr, want string }{
		{":8080", "http://127.0.0.1:8080/healthz"},
		{"0.0.0.0:9000", "http://127.0.0.1:9000/healthz"},
		{"[::]:8080", "http://[::1]:8080/healthz"},
		{"10.0.0.5:8080", "http://10.0.0.5:8080/healthz"},
	}
	for _, tt := range tests {
		got, err := healthURL(tt.addr, "/healthz")
		if err != nil || got != tt.want {
			t.Errorf("healthURL(%q) = %q, %v; want %q", tt.addr, got, err, tt.want)
		}
	}
	if _, err := healthURL("nonsense", "/healthz"); err == nil {
		t.Error("healthURL(nonsense): no error")
	}
}
