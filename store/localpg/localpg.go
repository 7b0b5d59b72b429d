// Package localpg runs a private PostgreSQL server for the workshop server
// when no DATABASE_URL is given, and for tests: it finds the machine's
// PostgreSQL binaries, creates a cluster on first start, listens only on a
// unix socket inside its own folder (no TCP port), and stops it cleanly.
package localpg

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Port is the number in the socket's file name (.s.PGSQL.5432); no TCP
// port is opened.
const Port = 5432

// Server is a running private PostgreSQL.
type Server struct {
	DataDir   string // the cluster (PGDATA)
	SocketDir string
	BinDir    string
	cmd       *exec.Cmd
	done      chan error
	cred      *syscall.Credential
	embedded  interface{ Stop() error }
	// lock is held while this process owns the cluster (see lockOwner);
	// shared is set when another process owns it and this one only
	// connects to it.
	lock   *os.File
	shared bool
}

// Options tune Start.
type Options struct {
	// Dir holds the cluster ("pgdata") and the socket ("run").
	Dir string
	// Log receives the server's own output; nil discards it.
	Log *os.File
	// Share lets Start use the PostgreSQL that another live process runs
	// on this folder (a command run while the server runs); Stop then
	// leaves it running. Without Share, Start fails with an *InUseError.
	Share bool
}

// ErrNoBinaries means no PostgreSQL installation was found.
var ErrNoBinaries = errors.New("no PostgreSQL binaries found")

// InUseError means another live process runs the PostgreSQL of the folder.
type InUseError struct {
	Dir string
	PID int // the owner's process id, 0 when unknown
}

func (e *InUseError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who = fmt.Sprintf("another process (pid %d)", e.PID)
	}
	return fmt.Sprintf("the folder %s is in use by %s running its PostgreSQL: stop that process, or give this one its own data folder (WORKSHOP_DATA) or a DATABASE_URL", e.Dir, who)
}

// ownerLockName is the file whose exclusive lock marks the process that
// runs the folder's PostgreSQL. The kernel releases the lock when that
// process dies, however it dies, so a live lock means a live owner and a
// free one means any PostgreSQL still running there is an orphan.
const ownerLockName = "owner.lock"

// lockOwner takes the folder's owner lock without waiting; ok is false
// when another process holds it.
func lockOwner(dir string) (f *os.File, ok bool, err error) {
	f, err = os.OpenFile(filepath.Join(dir, ownerLockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, err
	}
	// The owner's pid, for the message another process shows.
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, true, nil
}

// ownerPID reads the pid the owner wrote into the lock file (0: unknown).
func ownerPID(dir string) int {
	b, _ := os.ReadFile(filepath.Join(dir, ownerLockName))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// Start finds the binaries, initializes the cluster when it is new, removes
// a stale lock left by a killed run, starts the server and waits until it
// accepts connections.
func Start(ctx context.Context, opts Options) (*Server, error) {
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("postgres folder %q: %w", opts.Dir, err)
	}
	bin, err := FindBinDir()
	if err != nil {
		return startEmbedded(ctx, dir, err)
	}
	s := &Server{DataDir: filepath.Join(dir, "pgdata"), SocketDir: socketDir(dir), BinDir: bin, done: make(chan error, 1)}
	// The folders above the cluster must exist before we can tell whether
	// the unprivileged account can enter them.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("postgres folder: %w", err)
	}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root, so the cluster belongs to an
		// unprivileged account.
		if s.cred, err = unprivileged(); err != nil {
			return nil, err
		}
		if err := reachable(dir, s.cred); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{dir, s.SocketDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("postgres folder: %w", err)
		}
		if err := s.chown(d); err != nil {
			return nil, err
		}
	}
	lock, owner, err := lockOwner(dir)
	if err != nil {
		return nil, fmt.Errorf("postgres folder: %w", err)
	}
	if !owner {
		if !opts.Share {
			return nil, &InUseError{Dir: dir, PID: ownerPID(dir)}
		}
		// The owner may still be starting it: wait as for our own.
		s.shared = true
		if err := s.waitReady(ctx); err != nil {
			return nil, fmt.Errorf("the PostgreSQL that pid %d runs in %s does not answer: %w", ownerPID(dir), dir, err)
		}
		return s, nil
	}
	s.lock = lock
	started := false
	defer func() {
		if !started {
			s.unlock()
		}
	}()
	if opts.Log == nil {
		// The server's own messages go to a file beside the cluster, so
		// that a failed start can point at them.
		f, err := os.OpenFile(s.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("postgres log: %w", err)
		}
		defer f.Close() // the server process keeps its own copy
		opts.Log = f
	}
	if _, err := os.Stat(filepath.Join(s.DataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := s.initdb(ctx, opts.Log); err != nil {
			return nil, err
		}
	}
	s.clearStaleLock(ctx)
	if err := s.start(opts.Log); err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	started = true
	return s, nil
}

// Shared reports whether another process owns the server this one uses.
func (s *Server) Shared() bool { return s.shared }

func (s *Server) unlock() {
	if s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
}

// URL is the connection string for database name on this server.
func (s *Server) URL(database string) string {
	if s.embedded != nil {
		return fmt.Sprintf("postgres://postgres:postgres@127.0.0.1:%d/%s?sslmode=disable", embeddedPort, database)
	}
	q := url.Values{"host": {s.SocketDir}, "user": {"postgres"}, "sslmode": {"disable"}}
	return "postgres:///" + database + "?" + q.Encode()
}

// Stop shuts the server down (fast mode: sessions are ended, data is
// flushed) and waits for it to exit.
func (s *Server) Stop() error {
	if s.embedded != nil {
		return s.embedded.Stop()
	}
	if s.cmd == nil || s.cmd.Process == nil {
		// Shared: the owner stops it.
		return nil
	}
	defer s.unlock()
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
		return nil
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Signal(syscall.SIGQUIT)
		<-s.done
		return errors.New("postgres did not stop within 15 s; it was stopped immediately")
	}
}

// Exited is closed when the server process ends.
func (s *Server) Exited() <-chan error { return s.done }

// FindBinDir looks for initdb and postgres: on the PATH, through
// pg_config --bindir, in Debian's /usr/lib/postgresql/*/bin (newest first)
// and in Homebrew's folders.
func FindBinDir() (string, error) {
	var candidates []string
	if p, err := exec.LookPath("postgres"); err == nil {
		// Debian links a few tools into /usr/local/bin; the real folder
		// also holds pg_isready and friends.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		candidates = append(candidates, filepath.Dir(p))
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	for _, pattern := range []string{"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/opt/homebrew/opt/postgresql@*/bin", "/usr/local/opt/postgresql@*/bin", "/opt/homebrew/bin", "/usr/local/bin"} {
		matches, _ := filepath.Glob(pattern)
		sort.Slice(matches, func(i, j int) bool { return versionOf(matches[i]) > versionOf(matches[j]) })
		candidates = append(candidates, matches...)
	}
	for _, dir := range candidates {
		if isExec(filepath.Join(dir, "initdb")) && isExec(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", ErrNoBinaries
}

func versionOf(path string) int {
	for _, part := range strings.Split(path, string(filepath.Separator)) {
		part = strings.TrimPrefix(strings.TrimPrefix(part, "postgresql@"), "pgsql-")
		if n, err := strconv.Atoi(part); err == nil {
			return n
		}
	}
	return 0
}

func isExec(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// socketDir keeps the socket path under the kernel's 107-byte limit.
func socketDir(dir string) string {
	d := filepath.Join(dir, "run")
	if len(d)+len("/.s.PGSQL.5432") < 100 {
		return d
	}
	h := fmt.Sprintf("%x", fnv32(dir))
	return filepath.Join(os.TempDir(), "workshop-pg-"+h)
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

func unprivileged() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root, and PostgreSQL refuses root: create a user named postgres (or set DATABASE_URL)")
}

// reachable checks that the unprivileged account can enter every folder
// above dir, since PostgreSQL must open its data folder as that account.
func reachable(dir string, cred *syscall.Credential) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err == nil {
			st := fi.Sys().(*syscall.Stat_t)
			ok := fi.Mode()&0o001 != 0 || (st.Uid == cred.Uid && fi.Mode()&0o100 != 0) || (st.Gid == cred.Gid && fi.Mode()&0o010 != 0)
			if !ok {
				return fmt.Errorf("the database folder %s is inside %s, which the unprivileged user (uid %d) that runs PostgreSQL cannot enter; set WORKSHOP_DATA to a folder outside it (for example /var/lib/workshop) or set DATABASE_URL", dir, p, cred.Uid)
			}
		}
		if p == "/" || p == "." {
			return nil
		}
	}
}

func (s *Server) chown(path string) error {
	if s.cred == nil {
		return nil
	}
	if err := os.Chown(path, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
		return fmt.Errorf("postgres folder %s: %w", path, err)
	}
	return nil
}

func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.BinDir, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Setpgid: true}
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	return cmd
}

// initdb creates the cluster in a side folder and renames it into place
// only once initdb succeeded: a first start interrupted halfway (Ctrl-C,
// SIGTERM) must not leave a half-made cluster that every later start
// would trip over.
func (s *Server) initdb(ctx context.Context, log *os.File) error {
	tmp := s.DataDir + ".initdb"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("postgres folder: %w", err)
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return err
	}
	if err := s.chown(tmp); err != nil {
		return err
	}
	cmd := s.command(ctx, "initdb", "-D", tmp, "-U", "postgres", "--auth-local=trust", "--auth-host=reject", "-E", "UTF8", "--no-instructions")
	out, err := cmd.CombinedOutput()
	if log != nil {
		_, _ = log.Write(out)
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
		if ctx.Err() != nil {
			return fmt.Errorf("initdb in %s interrupted: %w", s.DataDir, ctx.Err())
		}
		return fmt.Errorf("initdb in %s failed: %v: %s", s.DataDir, err, lastLines(string(out), 5))
	}
	// Only an empty folder may stand where the cluster goes.
	if err := os.Remove(s.DataDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("%s holds files but no PostgreSQL cluster (no PG_VERSION); move it away and start again", s.DataDir)
	}
	if err := os.Rename(tmp, s.DataDir); err != nil {
		return fmt.Errorf("postgres folder: %w", err)
	}
	return nil
}

// clearStaleLock handles a postmaster.pid left by a run that was killed:
// a live server from that run is stopped first, a dead one's file removed.
// It runs only under the owner lock, so no live process uses that server.
func (s *Server) clearStaleLock(ctx context.Context) {
	pidFile := filepath.Join(s.DataDir, "postmaster.pid")
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(data), "\n", 2)[0]))
	if pid > 0 && syscall.Kill(pid, 0) == nil && isPostgres(pid) {
		_ = syscall.Kill(pid, syscall.SIGINT)
		for i := 0; i < 150 && syscall.Kill(pid, 0) == nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
		return
	}
	_ = os.Remove(pidFile)
}

func isPostgres(pid int) bool {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return err != nil || strings.HasPrefix(strings.TrimSpace(string(comm)), "postgres")
}

// logPath is where the server's output goes unless Options.Log is set.
func (s *Server) logPath() string { return filepath.Join(filepath.Dir(s.DataDir), "postgres.log") }

func (s *Server) start(log *os.File) error {
	cmd := s.command(context.Background(), "postgres", "-D", s.DataDir, "-k", s.SocketDir,
		"-c", "listen_addresses=", "-c", "unix_socket_permissions=0700", "-p", strconv.Itoa(Port),
		"-c", "max_connections=200", "-c", "fsync=on")
	// If this process dies without stopping it, the kernel tells the
	// server to shut down (fast), so no orphan keeps the folder locked.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGINT
	if log != nil {
		cmd.Stdout, cmd.Stderr = log, log
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	s.cmd = cmd
	go func() { s.done <- cmd.Wait(); close(s.done) }()
	return nil
}

func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	sock := filepath.Join(s.SocketDir, fmt.Sprintf(".s.PGSQL.%d", Port))
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			return fmt.Errorf("postgres exited at start (%v); see its log %s", err, s.logPath())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if _, err := os.Stat(sock); err != nil {
			continue
		}
		out, err := exec.Command(filepath.Join(s.BinDir, "pg_isready"), "-h", s.SocketDir, "-p", strconv.Itoa(Port), "-q").CombinedOutput()
		if err == nil {
			return nil
		}
		if os.Getenv("LOCALPG_DEBUG") != "" {
			fmt.Fprintf(os.Stderr, "pg_isready: %v %s\n", err, out)
		}
	}
	return errors.New("postgres did not become ready within 30 s")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
