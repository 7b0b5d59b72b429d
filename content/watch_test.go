package content

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWatchReloads(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the poller")
	}
	dir := copyFixture(t)
	type reload struct {
		c   *Course
		err error
	}
	got := make(chan reload, 4)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Watch(ctx, dir, Options{}, func(c *Course, err error) { got <- reload{c, err} })
		close(done)
	}()
	defer func() { cancel(); <-done }()
	wait := func() reload {
		t.Helper()
		select {
		case r := <-got:
			return r
		case <-time.After(4 * WatchInterval):
			t.Fatal("no reload after a change")
			return reload{}
		}
	}
	time.Sleep(WatchInterval / 2)

	page := filepath.Join(dir, "course", "steps", "02-second", "guided.md")
	src, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(data string) {
		t.Helper()
		if err := os.WriteFile(page, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		// Make the change visible even on a file system with coarse mtimes.
		future := time.Now().Add(time.Minute)
		_ = os.Chtimes(page, future, future)
	}

	edit(strings.Replace(string(src), "title: The second step", "title: The renamed step", 1))
	r := wait()
	if r.err != nil {
		t.Fatalf("reload: %v", r.err)
	}
	if p, _ := r.c.Page(KindStep, "guided", "second"); p.Title != "The renamed step" {
		t.Errorf("title after reload = %q", p.Title)
	}

	edit(strings.Replace(string(src), "title: The second step", "title: [broken", 1))
	r = wait()
	var ps Problems
	if !errors.As(r.err, &ps) || !strings.Contains(ps.Error(), "course/steps/02-second/guided.md:3: frontmatter: invalid YAML") {
		t.Errorf("reload of broken content: %v", r.err)
	}
}
