package grader

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Test-only checks: a slow one that counts its runs, and one that panics.
var slowRuns, inflight, maxInflight atomic.Int64

func init() {
	register(checkFunc{"zz-test-slow", "slow test check", func(ctx context.Context, _ *Env) Result {
		slowRuns.Add(1)
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for m := maxInflight.Load(); n > m && !maxInflight.CompareAndSwap(m, n); m = maxInflight.Load() {
		}
		select {
		case <-time.After(300 * time.Millisecond):
			return result(StatusPass, "", "done", "")
		case <-ctx.Done():
			return result(StatusError, "", "deadline", "")
		}
	}})
	register(checkFunc{"zz-test-panic", "panicking test check", func(context.Context, *Env) Result { panic("boom") }})
}

// dockerChecks are the checks of the Docker half, by their fixed ids.
var dockerChecks = []string{"docker-reachable", "app-image-built", "app-image-tagged", "app-container-interactive",
	"old-container-removed", "port-8000-single-owner", "port-8000-published", "app-answers-http",
	"user-network-with-app", "multi-stage-image-smaller", "multi-stage-container-runs", "image-entrypoint-and-cmd"}

func TestRunStepBasics(t *testing.T) {
	g := New(Policy{}, Options{})
	rs := g.RunStep(context.Background(), "", Target{}, []string{"no-such-check", "zz-test-panic", "zz-test-slow"})
	if len(rs) != 3 {
		t.Fatalf("got %d results", len(rs))
	}
	if rs[0].Status != StatusError || !strings.Contains(rs[0].Summary, "Unknown check") {
		t.Errorf("unknown check: %+v", rs[0])
	}
	if rs[1].Status != StatusError || rs[1].CheckID != "zz-test-panic" {
		t.Errorf("panic: %+v", rs[1])
	}
	if rs[2].Status != StatusPass || rs[2].Title != "slow test check" || rs[2].Duration < 250*time.Millisecond || rs[2].Started.IsZero() {
		t.Errorf("timing: %+v", rs[2])
	}
	// A check past its deadline comes back, it does not hang the step.
	g = New(Policy{}, Options{CheckTimeout: 50 * time.Millisecond})
	if r := g.RunStep(context.Background(), "", Target{}, []string{"zz-test-slow"})[0]; r.Status != StatusError || r.Duration > 250*time.Millisecond {
		t.Errorf("deadline: %+v", r)
	}
	// Without a Docker endpoint the reachability check says what to do.
	expect(t, g.RunStep(context.Background(), "", Target{}, []string{"docker-reachable"})[0], StatusFail, KindDockerNotConfigured, "tcp://<host_ip>:2376")
}

func TestRunStepDoubleClickRunsOnce(t *testing.T) {
	g := New(Policy{}, Options{})
	slowRuns.Store(0)
	var wg sync.WaitGroup
	results := make([][]Result, 5)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = g.RunStep(context.Background(), "student-1/publish-port", Target{}, []string{"zz-test-slow"})
		}(i)
		time.Sleep(10 * time.Millisecond)
	}
	wg.Wait()
	if n := slowRuns.Load(); n != 1 {
		t.Errorf("five clicks ran the check %d times, want 1", n)
	}
	for _, rs := range results {
		if len(rs) != 1 || rs[0].Status != StatusPass {
			t.Errorf("a waiter got %+v", rs)
		}
	}
	// A caller that gives up does not cancel the shared run for the others.
	slowRuns.Store(0)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan []Result)
	go func() { done <- g.RunStep(context.Background(), "student-2/x", Target{}, []string{"zz-test-slow"}) }()
	time.Sleep(10 * time.Millisecond)
	if r := g.RunStep(ctx, "student-2/x", Target{}, []string{"zz-test-slow"}); r[0].Status != StatusError {
		t.Errorf("impatient caller got %+v", r[0])
	}
	if r := <-done; r[0].Status != StatusPass {
		t.Errorf("patient caller got %+v", r[0])
	}
}

func TestRunStepConcurrencyLimit(t *testing.T) {
	g := New(Policy{}, Options{MaxConcurrent: 2, StepTimeout: 20 * time.Second})
	slowRuns.Store(0)
	maxInflight.Store(0)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := g.RunStep(context.Background(), "", Target{}, []string{"zz-test-slow"})[0]; r.Status != StatusPass {
				t.Errorf("got %+v", r)
			}
		}()
	}
	wg.Wait()
	// Six runs of 300 ms, two at a time: three rounds.
	if m := maxInflight.Load(); m != 2 {
		t.Errorf("at most %d runs at once, want 2", m)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("six runs took %s, want three rounds", d)
	}
	// A run that cannot get a slot before its deadline says the server is busy.
	g = New(Policy{}, Options{MaxConcurrent: 1, StepTimeout: 100 * time.Millisecond})
	g.sem <- struct{}{} // another student's run holds the only slot
	if r := g.RunStep(context.Background(), "", Target{}, []string{"zz-test-slow"})[0]; !strings.Contains(r.Summary, "busy") {
		t.Errorf("no slot: %+v", r)
	}
}

func TestCheckedAgo(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 30, 0, time.UTC)
	if ok, _ := CheckedAgo(time.Time{}, now, 30*time.Second); !ok {
		t.Error("first run refused")
	}
	ok, msg := CheckedAgo(now.Add(-12*time.Second), now, 30*time.Second)
	if ok || msg != "Checked 12 s ago; try again in 18 s." {
		t.Errorf("got %v %q", ok, msg)
	}
	if ok, _ := CheckedAgo(now.Add(-31*time.Second), now, 30*time.Second); !ok {
		t.Error("run after the window refused")
	}
}

func TestRegistry(t *testing.T) {
	for _, id := range dockerChecks {
		c, ok := Lookup(id)
		if !ok || !Known(id) || c.Title() == "" {
			t.Errorf("check %s missing", id)
		}
	}
	all := All()
	for i := 1; i < len(all); i++ {
		if all[i-1].ID() >= all[i].ID() {
			t.Errorf("All() not sorted at %s", all[i].ID())
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a duplicate id did not panic")
		}
	}()
	register(checkFunc{id: "docker-reachable"})
}

// TestNoWriteCallsInGrader proves by reading the source that no grader
// file calls a Docker API that changes a host.
func TestNoWriteCallsInGrader(t *testing.T) {
	forbidden := regexp.MustCompile(`\.(Container(Create|Start|Stop|Restart|Kill|Remove|Exec\w*|Attach|Update|Rename|Pause|Unpause|Commit|Prune|Wait)|Image(Pull|Push|Remove|Build|Tag|Import|Load|Save|Prune)|Network(Create|Remove|Connect|Disconnect|Prune)|Volume(Create|Remove|Prune)|CopyToContainer)\(`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue // tests create the near-miss states on their own engine
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if forbidden.MatchString(line) {
				t.Errorf("%s:%d calls a Docker API that changes the host: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}
