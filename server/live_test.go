package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/web"
)

// replica starts another Server, as another process would, on its own
// pool to the same database as h.
func (h *harness) replica(opts ...func(*Options)) *harness {
	h.t.Helper()
	db, err := store.Open(context.Background(), h.DB.Pool.Config().ConnString(), 10*time.Second)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(db.Close)
	sealer, err := store.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		h.t.Fatal(err)
	}
	db.SetSealer(sealer)
	renderer, err := web.New(nil)
	if err != nil {
		h.t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(testLogWriter{h.t}, &slog.HandlerOptions{Level: slog.LevelError}))
	o := Options{DB: db, Web: renderer, Log: logger, Version: "test"}
	for _, f := range opts {
		f(&o)
	}
	srv, err := New(o)
	if err != nil {
		h.t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	h.t.Cleanup(ts.Close)
	return &harness{t: h.t, DB: db, Srv: srv, TS: ts, hash: h.hash}
}

// start runs a server's background work until the test ends (or cancel).
func (h *harness) start() (stop func()) {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := h.Srv.Start(ctx); err != nil {
		h.t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			h.Srv.Wait()
		}
	}
	h.t.Cleanup(stop)
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := h.Srv.waitListening(wctx); err != nil {
		h.t.Fatal(err)
	}
	return stop
}

// sseEvent is one server-sent event.
type sseEvent struct {
	Name, Data string
}

// stream opens an event stream and sends its events (and the retry
// field, as an event named "retry") on the channel.
func (h *harness) stream(c *http.Client, path string) <-chan sseEvent {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.TS.URL+path, nil)
	req.Header.Set("Accept", "text/event-stream")
	sc := *c
	sc.Timeout = 0
	resp, err := sc.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		h.t.Fatalf("stream %s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 16)
	go func() {
		defer resp.Body.Close()
		defer close(out)
		r := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for r.Scan() {
			line := r.Text()
			switch {
			case line == "":
				if ev.Name != "" {
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "retry: "):
				out <- sseEvent{Name: "retry", Data: strings.TrimPrefix(line, "retry: ")}
			case strings.HasPrefix(line, "event: "):
				ev.Name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.Data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return out
}

// next waits for the next event with the given name.
func next(t *testing.T, events <-chan sseEvent, name string, within time.Duration) sseEvent {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("the stream ended before a %q event", name)
			}
			if ev.Name == name {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %q event within %s", name, within)
		}
	}
}

// A check stored through one server reaches a dashboard connected to
// another server on the same database, within 2 s, through
// LISTEN/NOTIFY; the live row fetched from the second server shows it.
func TestLiveCheckReachesAnotherReplica(t *testing.T) {
	a := newHarness(t)
	b := a.replica()
	a.start()
	b.start()
	w := a.world()
	events := b.stream(b.sessionClient(w.InstructorA), fmt.Sprintf("/cohorts/%d/events", w.CohortA.ID))
	if ev := next(t, events, "retry", 20*time.Second); ev.Data != "2000" {
		t.Errorf("retry: %q", ev.Data)
	}

	// Student A presses "Check my work" on server A (no target: the
	// checks come back as errors, which are results all the same).
	sent := time.Now()
	resp := a.postForm(a.sessionClient(w.StudentA), "/steps/build-image/check", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("check: %d %s", resp.StatusCode, readBody(resp))
	}
	resp.Body.Close()
	ev := next(t, events, "progress", 20*time.Second)
	var got store.Event
	if err := json.Unmarshal([]byte(ev.Data), &got); err != nil {
		t.Fatal(err)
	}
	if got.UserID != w.StudentA.ID || got.StepID != "build-image" || got.Kind != "check" {
		t.Errorf("event %+v", got)
	}
	t.Logf("the event reached the other replica %s after the check was stored", time.Since(sent).Round(time.Millisecond))

	// Student B's results (cohort B) never reach cohort A's dashboard.
	resp = a.postForm(a.sessionClient(w.StudentB), "/steps/build-image/check", nil)
	resp.Body.Close()
	resp = a.postForm(a.sessionClient(w.StudentA), "/quizzes/clone", url.Values{})
	resp.Body.Close()
	ev = next(t, events, "progress", 20*time.Second)
	if err := json.Unmarshal([]byte(ev.Data), &got); err != nil {
		t.Fatal(err)
	}
	if got.UserID != w.StudentA.ID || got.Kind != "quiz" {
		t.Errorf("after B's check and A's quiz, got %+v, want A's quiz", got)
	}

	row := readBody(b.get(b.sessionClient(w.InstructorA), fmt.Sprintf("/cohorts/%d/dashboard/row/%d", w.CohortA.ID, w.StudentA.ID)))
	if !strings.Contains(row, fmt.Sprintf(`id="student-%d"`, w.StudentA.ID)) || !strings.Contains(row, "Could not check") && !strings.Contains(row, "error") {
		t.Errorf("row fragment: %s", row)
	}
	if strings.Contains(row, "<html") {
		t.Error("the row fragment carries the layout")
	}
}

// The listener comes back after its connection is killed (as when
// PostgreSQL restarts) and tells the pages to resynchronise.
func TestListenerReconnects(t *testing.T) {
	h := newHarness(t)
	h.start()
	w := h.world()
	events := h.stream(h.sessionClient(w.InstructorA), fmt.Sprintf("/cohorts/%d/events", w.CohortA.ID))
	next(t, events, "retry", 20*time.Second)
	ctx := context.Background()
	var killed int
	err := h.DB.Pool.QueryRow(ctx, `
		SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'listen %workshop_events%'`).Scan(&killed)
	if err != nil || killed != 1 {
		t.Fatalf("terminate the listener: %d, %v", killed, err)
	}
	next(t, events, "resync", 10*time.Second)
	resp := h.postForm(h.sessionClient(w.StudentA), "/steps/build-image/check", nil)
	resp.Body.Close()
	next(t, events, "progress", 20*time.Second)
}

// A regrade survives the death of the server running it: its jobs stay
// in River's tables and another server's workers finish them, one result
// per student and check with source 'regrade', each student counted once.
func TestRegradeResumesAfterServerDies(t *testing.T) {
	var entered atomic.Int32
	gate := func(ctx context.Context, _ int64) error {
		entered.Add(1)
		<-ctx.Done() // hangs until the server dies
		return ctx.Err()
	}
	first := newHarness(t, func(o *Options) {
		o.Live = LiveOptions{RegradeWorkers: 2, StopGrace: 100 * time.Millisecond, regradeGate: gate}
	})
	stopFirst := first.start()
	w := first.world()
	students := []*store.User{w.StudentA}
	for i := 0; i < 4; i++ {
		u := first.createUser(store.RoleStudent)
		first.addStudent(w.CohortA, u)
		students = append(students, u)
	}
	resp := first.postForm(first.sessionClient(w.InstructorA), fmt.Sprintf("/cohorts/%d/regrade", w.CohortA.ID), url.Values{"step": {"build-image"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("regrade: %d %s", resp.StatusCode, readBody(resp))
	}
	resp.Body.Close()
	for deadline := time.Now().Add(20 * time.Second); entered.Load() < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d jobs started", entered.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopFirst() // the server dies with two jobs running and three waiting
	ctx := context.Background()
	regrades, err := first.DB.RecentRegrades(ctx, w.CohortA.ID, 1)
	if err != nil || len(regrades) != 1 {
		t.Fatalf("regrades: %v %v", regrades, err)
	}
	r := regrades[0]
	if r.Total != 5 || r.Done != 0 {
		t.Fatalf("after the first server died: %+v", r)
	}

	second := first.replica()
	second.start()
	for deadline := time.Now().Add(60 * time.Second); ; {
		got, err := second.DB.RegradeByID(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Finished() {
			if got.Done != 5 || got.Failed != 0 || got.FinishedAt == nil {
				t.Errorf("finished regrade: %+v", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the regrade did not finish: %+v", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var rows, pairs int
	err = second.DB.Pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT (user_id, check_id)) FROM check_runs
		WHERE source = 'regrade' AND step_id = 'build-image' AND cohort_id = $1`, w.CohortA.ID).Scan(&rows, &pairs)
	if err != nil {
		t.Fatal(err)
	}
	if pairs != 5*2 || rows != pairs {
		t.Errorf("regrade results: %d rows for %d student×check pairs, want 10 and 10", rows, pairs)
	}
	page := readBody(second.get(second.sessionClient(w.InstructorA), fmt.Sprintf("/cohorts/%d/dashboard", w.CohortA.ID)))
	if !strings.Contains(page, "5 of 5 done") {
		t.Errorf("the dashboard does not show the finished regrade")
	}
}

// An event stream outlives the HTTP server's ReadTimeout, sending
// heartbeats meanwhile.
func TestStreamOutlivesReadTimeout(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.Live.Heartbeat = 200 * time.Millisecond })
	h.TS.Close()
	ts := httptest.NewUnstartedServer(h.Srv.Handler())
	ts.Config.ReadTimeout = 500 * time.Millisecond
	ts.Start()
	t.Cleanup(ts.Close)
	h.TS = ts
	w := h.world()
	c := h.sessionClient(w.InstructorA)
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/cohorts/%d/events", ts.URL, w.CohortA.ID), nil)
	req.Header.Set("Accept", "text/event-stream")
	c.Timeout = 0
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewScanner(resp.Body)
	start := time.Now()
	beats := 0
	for r.Scan() && time.Since(start) < 1500*time.Millisecond {
		if r.Text() == ": heartbeat" {
			beats++
		}
	}
	if beats < 5 {
		t.Errorf("%d heartbeats in %s (the stream ended: %v)", beats, time.Since(start).Round(time.Millisecond), r.Err())
	}
}

// An instructor cancels a regrade under way: the students it has not
// finished are counted as cancelled at once, queued jobs end without
// running, and the jobs already running no longer count.
func TestRegradeCancel(t *testing.T) {
	var entered atomic.Int32
	release := make(chan struct{})
	gate := func(ctx context.Context, _ int64) error {
		entered.Add(1)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	h := newHarness(t, func(o *Options) {
		o.Live = LiveOptions{RegradeWorkers: 2, StopGrace: 100 * time.Millisecond, regradeGate: gate}
	})
	h.start()
	w := h.world()
	for i := 0; i < 4; i++ {
		h.addStudent(w.CohortA, h.createUser(store.RoleStudent))
	}
	teacher := h.sessionClient(w.InstructorA)
	resp := h.postForm(teacher, fmt.Sprintf("/cohorts/%d/regrade", w.CohortA.ID), url.Values{"step": {"build-image"}})
	if readBody(resp); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("regrade: %d", resp.StatusCode)
	}
	for deadline := time.Now().Add(20 * time.Second); entered.Load() < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d jobs started", entered.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	ctx := context.Background()
	list, err := h.DB.RecentRegrades(ctx, w.CohortA.ID, 1)
	if err != nil || len(list) != 1 {
		t.Fatalf("regrades: %v %v", list, err)
	}
	r := list[0]
	page := readBody(h.get(teacher, fmt.Sprintf("/cohorts/%d/dashboard", w.CohortA.ID)))
	cancelPath := fmt.Sprintf("/cohorts/%d/regrades/%d/cancel", w.CohortA.ID, r.ID)
	if !strings.Contains(page, `action="`+cancelPath+`"`) {
		t.Fatal("the dashboard offers no Cancel for the regrade under way")
	}

	// Another cohort's instructor cannot; the cohort's can, by the JSON API.
	if got := statusOf(h.api(h.sessionClient(w.InstructorB), http.MethodPost, cancelPath, "{}", "")); got != http.StatusForbidden {
		t.Errorf("instructor of B: %d, want 403", got)
	}
	if got := statusOf(h.api(teacher, http.MethodPost, fmt.Sprintf("/cohorts/%d/regrades/%d/cancel", w.CohortB.ID, r.ID), "{}", "")); got != http.StatusForbidden {
		t.Errorf("another cohort's path: %d, want 403", got)
	}
	resp = h.api(teacher, http.MethodPost, cancelPath, "{}", "")
	var out struct {
		Total, Done, Cancelled int
		Finished               bool
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("cancel: %d %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	if out.Total != 5 || out.Cancelled != 5 || out.Done != 0 || !out.Finished {
		t.Errorf("after cancelling: %+v, want 5 of 5 cancelled and finished", out)
	}

	// The running jobs finish; the queued ones end without a check.
	close(release)
	time.Sleep(2 * time.Second)
	got, err := h.DB.RegradeByID(ctx, r.ID)
	if err != nil || got.Done != 0 || got.Failed != 0 || got.Cancelled != 5 || got.CancelledAt == nil {
		t.Errorf("regrade after its jobs ended: %+v %v", got, err)
	}
	var students int
	if err := h.DB.Pool.QueryRow(ctx, `SELECT count(DISTINCT user_id) FROM check_runs WHERE source = 'regrade' AND cohort_id = $1`,
		w.CohortA.ID).Scan(&students); err != nil {
		t.Fatal(err)
	}
	if students > 2 {
		t.Errorf("%d students were checked after the cancel; at most the 2 already running may be", students)
	}
	page = readBody(h.get(teacher, fmt.Sprintf("/cohorts/%d/dashboard", w.CohortA.ID)))
	if !strings.Contains(page, "5 cancelled") || strings.Contains(page, `action="`+cancelPath+`"`) {
		t.Error("the dashboard does not show the cancelled regrade as finished")
	}
	// Cancelling again changes nothing.
	if got := statusOf(h.postForm(teacher, cancelPath, nil)); got != http.StatusSeeOther {
		t.Errorf("second cancel: %d, want 303", got)
	}
}

// A student joining through the invite link, and one removed, reach the
// cohort's open dashboards as "member" events; other cohorts' do not.
func TestMemberEventsReachTheDashboard(t *testing.T) {
	h := newHarness(t)
	h.start()
	w := h.world()
	eventsA := h.stream(h.sessionClient(w.InstructorA), fmt.Sprintf("/cohorts/%d/events", w.CohortA.ID))
	eventsB := h.stream(h.sessionClient(w.InstructorB), fmt.Sprintf("/cohorts/%d/events", w.CohortB.ID))
	next(t, eventsA, "retry", 20*time.Second)
	next(t, eventsB, "retry", 20*time.Second)

	resp := h.postForm(h.client(), "/join/"+w.CohortA.JoinCode, url.Values{"name": {"Newcomer"}, "email": {"newcomer@example.org"}, "password": {"a good long password"}})
	if readBody(resp); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("join: %d", resp.StatusCode)
	}
	ev := next(t, eventsA, "member", 20*time.Second)
	var got store.Event
	if err := json.Unmarshal([]byte(ev.Data), &got); err != nil || got.Kind != "member" || got.CohortID != w.CohortA.ID {
		t.Errorf("member event: %s %v", ev.Data, err)
	}
	if got := statusOf(h.postForm(h.sessionClient(w.InstructorA), fmt.Sprintf("/cohorts/%d/members/%d/remove", w.CohortA.ID, w.StudentA.ID), nil)); got != http.StatusSeeOther {
		t.Fatalf("remove: %d", got)
	}
	ev = next(t, eventsA, "member", 20*time.Second)
	if err := json.Unmarshal([]byte(ev.Data), &got); err != nil || got.UserID != w.StudentA.ID {
		t.Errorf("removal event: %s %v", ev.Data, err)
	}
	select {
	case ev := <-eventsB:
		if ev.Name == "member" {
			t.Errorf("cohort B's dashboard got cohort A's member event: %s", ev.Data)
		}
	case <-time.After(500 * time.Millisecond):
	}
}
