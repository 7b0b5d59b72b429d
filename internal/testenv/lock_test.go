package testenv

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// tryLock reports whether a fresh descriptor of the lock file can take
// the lock now, as another test process would try.
func tryLock(t *testing.T, name string, how int) bool {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), name), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB) == nil
}

func TestLockHostPortHeldUntilTheTestEnds(t *testing.T) {
	const port = 1 // no test publishes it
	name := "workshop-test-port-1.lock"
	t.Run("holder", func(t *testing.T) {
		LockHostPort(t, port)
		if tryLock(t, name, syscall.LOCK_EX) {
			t.Error("a second holder got the port's lock")
		}
	})
	if !tryLock(t, name, syscall.LOCK_EX) {
		t.Error("the port's lock outlived the test that took it")
	}
}
