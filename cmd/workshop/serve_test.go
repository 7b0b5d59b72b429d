package main

// Process-level tests: they build the real binary once and run it as a
// separate process against real PostgreSQL (the private launcher, or the
// test cluster of package storetest), the way an instructor runs it.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coursekit/workshop/internal/testenv"
	"github.com/coursekit/workshop/store/localpg"
	"github.com/coursekit/workshop/store/storetest"
)

// testVersion is stamped into the test binary to prove -X main.version works.
const testVersion = "v0.0.0-proctest"

// binary is the workshop executable built by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "workshop-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Other users may run it (TestProcessAsUnprivilegedUser).
	_ = os.Chmod(dir, 0o755)
	binary = filepath.Join(dir, "workshop")
	build := exec.Command("go", "build", "-ldflags", "-X main.version="+testVersion, "-o", binary, ".")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the workshop binary: %v\n%s", err, out)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	storetest.Shutdown()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// lockedBuffer collects a process's output while it runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// procAttr, when set, is given to every process startProc starts.
var procAttr *syscall.SysProcAttr

// proc is a running workshop process.
type proc struct {
	t       *testing.T
	cmd     *exec.Cmd
	out     *lockedBuffer
	started time.Time
	done    chan struct{}
}

// startProc runs the binary with exactly env (nothing inherited) and args.
func startProc(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Env = env
	p.cmd.SysProcAttr = procAttr
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start workshop: %v", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("workshop %v output:\n%s", args, p.out.String())
		}
	})
	return p
}

// runProc runs the binary to completion (at most timeout) and returns its
// exit code and combined output.
func runProc(t *testing.T, timeout time.Duration, env []string, args ...string) (int, string) {
	t.Helper()
	p := startProc(t, env, args...)
	code, ok := p.wait(timeout)
	if !ok {
		t.Fatalf("workshop %v still running after %v; output:\n%s", args, timeout, p.out)
	}
	return code, p.out.String()
}

// wait returns the exit code, or false if the process is still running
// after timeout.
func (p *proc) wait(timeout time.Duration) (int, bool) {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode(), true
	case <-time.After(timeout):
		return 0, false
	}
}

// stop sends SIGTERM and expects exit code 0 within 5 s.
func (p *proc) stop() {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	start := time.Now()
	code, ok := p.wait(5 * time.Second)
	if !ok {
		p.t.Fatalf("still running 5 s after SIGTERM; output:\n%s", p.out)
	}
	if code != 0 {
		p.t.Fatalf("exit code %d after SIGTERM, want 0; output:\n%s", code, p.out)
	}
	p.t.Logf("stopped %v after SIGTERM", time.Since(start).Round(time.Millisecond))
}

// stopCleanly is stop, then no PostgreSQL may be left working in data.
func (p *proc) stopCleanly(data string) {
	p.t.Helper()
	p.stop()
	if left := postgresIn(data); len(left) > 0 {
		p.t.Fatalf("PostgreSQL processes left behind in %s after SIGTERM: %v", data, left)
	}
}

// freeAddr returns 127.0.0.1:PORT with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// newDataDir makes a data folder the unprivileged PostgreSQL account can
// enter when the tests run as root (t.TempDir's parent is private).
func newDataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "workshop-proc-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		killPostgresIn(dir)
		_ = os.RemoveAll(dir)
	})
	return dir
}

// requirePostgres skips (or fails under CI) when the machine has no
// PostgreSQL binaries for the private launcher.
func requirePostgres(t *testing.T) {
	t.Helper()
	_, err := localpg.FindBinDir()
	testenv.Require(t, "PostgreSQL", err)
}

// get fetches url and returns its status and body (status 0 on error).
func get(url string) (int, string) {
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// waitStatus polls url until it answers want, failing after timeout.
func waitStatus(t *testing.T, p *proc, url string, want int, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var code int
	var body string
	for time.Since(start) < timeout {
		if code, body = get(url); code == want {
			return time.Since(start)
		}
		if p != nil {
			select {
			case <-p.done:
				t.Fatalf("workshop exited (code %d) while waiting for %s; output:\n%s", p.cmd.ProcessState.ExitCode(), url, p.out)
			default:
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: got %d %q, want %d within %v", url, code, body, want, timeout)
	return 0
}

// postgresIn lists the PostgreSQL processes working in dir: the postmaster
// names it on its command line, and every process of the cluster has its
// working directory in the data folder.
func postgresIn(dir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if !strings.HasPrefix(string(comm), "postgres") {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		if strings.Contains(string(cmdline), dir) || strings.HasPrefix(cwd, dir) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killPostgresIn ends whatever PostgreSQL a failed test left in dir.
func killPostgresIn(dir string) {
	for _, pid := range postgresIn(dir) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// privateEnv is the whole environment of a run with the private database.
func privateEnv(data, addr string) []string {
	return []string{"WORKSHOP_DATA=" + data, "WORKSHOP_ADDR=" + addr}
}

// privateURL connects to the private PostgreSQL's workshop database
// through its socket.
func privateURL(data string) string {
	q := url.Values{"host": {filepath.Join(data, "postgres", "run")}, "user": {"postgres"}, "sslmode": {"disable"}}
	return "postgres:///workshop?" + q.Encode()
}

func sqlExec(t *testing.T, dbURL, query string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func sqlInt(t *testing.T, dbURL, query string, args ...any) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestServePrivateDatabase is the newcomer's path: no environment but a
// data folder and an address; the first start initializes PostgreSQL and
// serves within 15 s; SIGTERM stops everything; the data survives.
//
// It runs alone (not parallel), so that the 15 s it allows measures the
// start itself rather than the other tests' clusters starting beside it.
func TestServePrivateDatabase(t *testing.T) {
	requirePostgres(t)
	data, addr := newDataDir(t), freeAddr(t)
	base := "http://" + addr

	p := startProc(t, privateEnv(data, addr))
	took := waitStatus(t, p, base+"/", http.StatusOK, 15*time.Second)
	t.Logf("first start served / after %v", took.Round(time.Millisecond))
	for _, path := range []string{"/readyz", "/healthz"} {
		if code, body := get(base + path); code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, code, body)
		}
	}
	if len(postgresIn(data)) == 0 {
		t.Fatalf("no PostgreSQL process found working in %s", data)
	}
	if _, err := os.Stat(filepath.Join(data, "postgres", "pgdata", "PG_VERSION")); err != nil {
		t.Fatalf("the cluster is not in WORKSHOP_DATA/postgres: %v", err)
	}
	sqlExec(t, privateURL(data), `INSERT INTO settings (key, value) VALUES ('proctest-marker', '"kept"')`)
	version := sqlInt(t, privateURL(data), `SELECT max(version_id) FROM goose_db_version WHERE is_applied`)

	// The container health check asks the running server.
	code, out := runProc(t, 30*time.Second, []string{"WORKSHOP_ADDR=" + addr}, "healthcheck")
	if code != 0 {
		t.Fatalf("healthcheck: exit %d: %s", code, out)
	}
	p.stopCleanly(data)
	if code, out := runProc(t, 30*time.Second, []string{"WORKSHOP_ADDR=" + addr}, "healthcheck"); code != 1 {
		t.Fatalf("healthcheck with no server: exit %d, want 1: %s", code, out)
	}

	p2 := startProc(t, privateEnv(data, addr))
	took = waitStatus(t, p2, base+"/readyz", http.StatusOK, 15*time.Second)
	t.Logf("second start ready after %v", took.Round(time.Millisecond))
	if n := sqlInt(t, privateURL(data), `SELECT count(*) FROM settings WHERE key = 'proctest-marker'`); n != 1 {
		t.Fatalf("marker rows after restart = %d, want 1", n)
	}
	if v := sqlInt(t, privateURL(data), `SELECT max(version_id) FROM goose_db_version WHERE is_applied`); v != version {
		t.Fatalf("schema version after restart = %d, want %d", v, version)
	}
	if strings.Contains(p2.out.String(), "migrations applied") {
		t.Errorf("second start applied migrations again:\n%s", p2.out)
	}
	p2.stopCleanly(data)
}

// TestProcessKilledRunRestarts kills the server with SIGKILL, so nothing
// stops PostgreSQL cleanly, and expects the next start to work.
func TestProcessKilledRunRestarts(t *testing.T) {
	requirePostgres(t)
	t.Parallel()
	data, addr := newDataDir(t), freeAddr(t)
	base := "http://" + addr
	pidFile := filepath.Join(data, "postgres", "pgdata", "postmaster.pid")

	// Only the server dies: its PostgreSQL may still be shutting down (the
	// parent-death signal) when the next run starts.
	p := startProc(t, privateEnv(data, addr))
	waitStatus(t, p, base+"/readyz", http.StatusOK, 15*time.Second)
	_ = p.cmd.Process.Kill()
	p.wait(20 * time.Second)
	p = startProc(t, privateEnv(data, addr))
	took := waitStatus(t, p, base+"/readyz", http.StatusOK, 20*time.Second)
	t.Logf("ready %v after the server was killed", took.Round(time.Millisecond))

	// Both die: the postmaster first, so its postmaster.pid stays behind.
	pid := postmasterPID(t, pidFile)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill postmaster %d: %v", pid, err)
	}
	_ = p.cmd.Process.Kill()
	p.wait(20 * time.Second)
	if _, err := os.Stat(pidFile); err != nil {
		t.Fatalf("expected a stale postmaster.pid: %v", err)
	}
	p = startProc(t, privateEnv(data, addr))
	took = waitStatus(t, p, base+"/readyz", http.StatusOK, 20*time.Second)
	t.Logf("ready %v after the server and its postmaster were killed", took.Round(time.Millisecond))
	if _, err := os.Stat(pidFile); err != nil {
		t.Fatalf("running cluster has no postmaster.pid: %v", err)
	}
	if got := postmasterPID(t, pidFile); got == pid {
		t.Fatalf("postmaster.pid still names the killed postmaster %d", pid)
	}
	p.stopCleanly(data)
}

func postmasterPID(t *testing.T, pidFile string) int {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("read postmaster.pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		t.Fatalf("postmaster.pid: %v", err)
	}
	return pid
}

// TestProcessInterruptedFirstStart stops the very first start while
// initdb runs (an impatient Ctrl-C); the next start must still work.
func TestProcessInterruptedFirstStart(t *testing.T) {
	requirePostgres(t)
	t.Parallel()
	data, addr := newDataDir(t), freeAddr(t)
	p := startProc(t, privateEnv(data, addr))
	pg := filepath.Join(data, "postgres")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(filepath.Join(pg, "pgdata.initdb", "PG_VERSION")); err == nil {
			break
		}
		if _, err := os.Stat(filepath.Join(pg, "pgdata", "PG_VERSION")); err == nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if _, ok := p.wait(10 * time.Second); !ok {
		t.Fatalf("still running 10 s after SIGTERM during the first start:\n%s", p.out)
	}
	if left := postgresIn(data); len(left) > 0 {
		t.Fatalf("PostgreSQL processes left behind: %v", left)
	}
	t.Logf("interrupted first start said: %s", strings.TrimSpace(p.out.String()))

	p = startProc(t, privateEnv(data, addr))
	waitStatus(t, p, "http://"+addr+"/readyz", http.StatusOK, 15*time.Second)
	p.stop()
}

// TestProcessAsUnprivilegedUser runs the newcomer's path as an ordinary
// user (the other tests run as whoever runs them, root in CI): PostgreSQL
// then runs as that user, with nothing to hand over.
func TestProcessAsUnprivilegedUser(t *testing.T) {
	requirePostgres(t)
	if os.Geteuid() != 0 {
		t.Skip("already unprivileged: TestServePrivateDatabase covers it")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	data, addr := newDataDir(t), freeAddr(t)
	if err := os.Chown(data, uid, gid); err != nil {
		t.Fatal(err)
	}
	// startProc reads procAttr; this test is not parallel, so no other
	// process starts meanwhile.
	procAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	p := startProc(t, privateEnv(data, addr))
	procAttr = nil
	waitStatus(t, p, "http://"+addr+"/readyz", http.StatusOK, 20*time.Second)
	for _, pid := range postgresIn(data) {
		if st, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil && st.Sys().(*syscall.Stat_t).Uid != uint32(uid) {
			t.Errorf("PostgreSQL process %d does not run as %s", pid, u.Username)
		}
	}
	p.stopCleanly(data)
}

// TestProcessCommandsBesideTheServer: while the server runs on its private
// PostgreSQL, a command on the same data folder uses that PostgreSQL and
// leaves it running; a second server on the folder is refused with the
// first one's pid, and the first keeps serving.
func TestProcessCommandsBesideTheServer(t *testing.T) {
	requirePostgres(t)
	t.Parallel()
	data, addr := newDataDir(t), freeAddr(t)
	base := "http://" + addr
	p := startProc(t, privateEnv(data, addr))
	waitStatus(t, p, base+"/readyz", http.StatusOK, 20*time.Second)

	code, out := runProc(t, 30*time.Second, privateEnv(data, addr), "admin", "setup-link", "--role", "instructor")
	if code != 0 || !strings.Contains(out, "/setup/") || !strings.Contains(out, "using the private PostgreSQL of the server") {
		t.Fatalf("admin setup-link beside the server: exit %d:\n%s", code, out)
	}
	code, out = runProc(t, 30*time.Second, privateEnv(data, addr), "migrate", "status")
	if code != 0 {
		t.Fatalf("migrate status beside the server: exit %d:\n%s", code, out)
	}
	if code, body := get(base + "/readyz"); code != http.StatusOK {
		t.Fatalf("the server lost its database to the commands: /readyz %d %s", code, body)
	}

	code, out = runProc(t, 30*time.Second, privateEnv(data, freeAddr(t)))
	want := fmt.Sprintf("in use by another process (pid %d)", p.cmd.Process.Pid)
	if code == 0 || !strings.Contains(out, want) || strings.Contains(out, "goroutine ") {
		t.Fatalf("a second server on the folder: exit %d, want a failure saying %q:\n%s", code, want, out)
	}
	if code, body := get(base + "/readyz"); code != http.StatusOK {
		t.Fatalf("the first server lost its database to the second: /readyz %d %s", code, body)
	}
	p.stopCleanly(data)
}
