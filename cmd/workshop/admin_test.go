package main

import (
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coursekit/workshop/store/storetest"
)

// runAdminProc runs "workshop admin ..." against dbURL with stdin.
func runAdminProc(t *testing.T, dbURL, stdin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"admin"}, args...)...)
	cmd.Env = []string{"DATABASE_URL=" + dbURL, "WORKSHOP_DATA=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("run admin: %v", err)
		}
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

func TestAdminCreate(t *testing.T) {
	dbURL := storetest.URL(t)
	code, out := runAdminProc(t, dbURL, "a long admin password\n", "create", "--email", " Root@Example.org ", "--name", "Root", "--password-stdin")
	if code != 0 || !strings.Contains(out, "Created admin account root@example.org") {
		t.Fatalf("create: exit %d: %s", code, out)
	}
	if strings.Contains(out, "a long admin password") {
		t.Error("the password was echoed")
	}
	if n := sqlInt(t, dbURL, `SELECT count(*) FROM users WHERE email = 'root@example.org' AND role = 'admin' AND password_hash LIKE '$argon2id$%'`); n != 1 {
		t.Errorf("%d admin rows with an argon2id hash, want 1", n)
	}
	for _, tc := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"existing email", "another long password\n", []string{"create", "--email", "root@example.org", "--password-stdin"}, "already exists"},
		{"short password", "short\n", []string{"create", "--email", "b@example.org", "--password-stdin"}, "Too short"},
		{"bad email", "a long enough password\n", []string{"create", "--email", "<b>@x", "--password-stdin"}, "Not an email address"},
		{"no terminal", "a long enough password\n", []string{"create", "--email", "c@example.org"}, "--password-stdin"},
		{"no password flag", "", []string{"create", "--email", "d@example.org", "--password", "x"}, "flag provided but not defined"},
	} {
		code, out := runAdminProc(t, dbURL, tc.stdin, tc.args...)
		if code == 0 || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d, output %q; want failure mentioning %q", tc.name, code, out, tc.want)
		}
	}
	code, out = runAdminProc(t, dbURL, "", "setup-link", "--role", "instructor")
	if code != 0 || !regexp.MustCompile(`http://localhost:8080/setup/[A-Za-z0-9_-]{43}`).MatchString(out) {
		t.Errorf("setup-link: exit %d: %s", code, out)
	}

	// A reset link for an existing account; none for an unknown address.
	code, out = runAdminProc(t, dbURL, "", "reset-link", "--email", "ROOT@example.org")
	if code != 0 || !regexp.MustCompile(`for root@example\.org .*\n\n +http://localhost:8080/reset/[A-Za-z0-9_-]{43}`).MatchString(out) {
		t.Errorf("reset-link: exit %d: %s", code, out)
	}
	if n := sqlInt(t, dbURL, `SELECT count(*) FROM password_resets r JOIN users u ON u.id = r.user_id WHERE u.email = 'root@example.org' AND r.expires_at > now()`); n != 1 {
		t.Errorf("%d usable reset links stored, want 1", n)
	}
	for args, want := range map[string]string{
		"reset-link --email nobody@example.org": "no account has the email nobody@example.org",
		"reset-link":                            "--email is required",
	} {
		if code, out := runAdminProc(t, dbURL, "", strings.Fields(args)...); code == 0 || !strings.Contains(out, want) {
			t.Errorf("%s: exit %d, output %q; want failure mentioning %q", args, code, out, want)
		}
	}
}

func TestServePrintsSetupLinkOnFirstRun(t *testing.T) {
	dbURL := storetest.URL(t)
	addr := freeAddr(t)
	p := startProc(t, []string{"DATABASE_URL=" + dbURL, "WORKSHOP_ADDR=" + addr, "WORKSHOP_DATA=" + t.TempDir(), "WORKSHOP_BASE_URL=http://course.test:8080"}, "serve")
	waitStatus(t, p, "http://"+addr+"/healthz", http.StatusOK, 60*time.Second)
	// Standard output is copied from a pipe: allow it a moment.
	var link []string
	for deadline := time.Now().Add(20 * time.Second); link == nil && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		link = regexp.MustCompile(`http://course\.test:8080(/setup/[A-Za-z0-9_-]{43})`).FindStringSubmatch(p.out.String())
	}
	if link == nil {
		t.Fatalf("no setup link in the output:\n%s", p.out)
	}
	if code, _ := get("http://" + addr + link[1]); code != http.StatusOK {
		t.Errorf("setup link answers %d, want 200", code)
	}
}
