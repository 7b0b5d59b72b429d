package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Tests of several packages run as separate processes under `go test ./...`
// and share one Docker engine and one host, so their locks are files
// (flock) in the temporary directory, not mutexes. A lock is held until
// the test and its cleanups end, and the kernel drops it if the test
// binary dies.

// LockHostPort serialises the tests, in every package, that publish the
// given host port (for example a container run with -p 8000:8000). It
// waits for the port's lock and releases it when the test ends. Cleanups
// run last in, first out: register the removal of the containers after
// this call, so that it still runs under the lock.
func LockHostPort(t testing.TB, port int) {
	t.Helper()
	lockFile(t, fmt.Sprintf("workshop-test-port-%d.lock", port), syscall.LOCK_EX, fmt.Sprintf("host port %d", port))
}

// ShareDockerEngine marks a test that creates objects on the shared Docker
// engine: any number of such tests run side by side, but none while a test
// holds the engine with OwnDockerEngine. Take it before LockHostPort.
func ShareDockerEngine(t testing.TB) {
	t.Helper()
	lockFile(t, "workshop-test-docker-engine.lock", syscall.LOCK_SH, "the Docker engine (shared)")
}

// OwnDockerEngine waits until no other test uses the Docker engine and
// keeps it for this test alone: for a test that must see the engine as a
// student's host, whole, with no other test's containers or images
// appearing or vanishing while it looks. Take it before LockHostPort.
func OwnDockerEngine(t testing.TB) {
	t.Helper()
	lockFile(t, "workshop-test-docker-engine.lock", syscall.LOCK_EX, "the Docker engine (exclusive)")
}

// lockFile takes a flock of the given kind on a file in the temporary
// directory, polling so that a test near its deadline fails with a reason
// instead of hanging.
func lockFile(t testing.TB, name string, how int, what string) {
	t.Helper()
	path := filepath.Join(os.TempDir(), name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatalf("lock %s: %v", what, err)
	}
	limit := 10 * time.Minute
	if d, ok := deadline(t); ok {
		limit = time.Until(d) - 30*time.Second
	}
	start := time.Now()
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if err != syscall.EWOULDBLOCK && err != syscall.EINTR {
			f.Close()
			t.Fatalf("lock %s (%s): %v", what, path, err)
		}
		if time.Since(start) > limit {
			f.Close()
			t.Fatalf("waited %s for %s (%s): another test holds it", time.Since(start).Round(time.Second), what, path)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if waited := time.Since(start); waited > time.Second {
		t.Logf("waited %s for %s", waited.Round(time.Second), what)
	}
	// Closing the file releases the lock.
	t.Cleanup(func() { f.Close() })
}

// deadline is the test binary's deadline (-timeout), when t knows it.
func deadline(t testing.TB) (time.Time, bool) {
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		return d.Deadline()
	}
	return time.Time{}, false
}
