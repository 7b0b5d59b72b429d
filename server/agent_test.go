package server

import (
	"bytes"
	"context"
	"errors"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/coursekit/workshop/grader"
	"github.com/coursekit/workshop/grader/agent"
	"github.com/coursekit/workshop/internal/testenv"
	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/web"
)

// requireDocker skips (or fails under CI) without the local engine.
func requireDocker(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(dockerSocket); err != nil {
		testenv.Require(t, "Docker engine", err)
	}
}

// agentHarness is a harness whose server knows its own address for the
// internal hop and shares secret with the other replicas.
func agentHarness(t *testing.T, secret string) *harness {
	h := newHarness(t, func(o *Options) {
		o.Grader = grader.New(grader.Policy{}, grader.Options{})
		o.CheckEvery = time.Millisecond
	})
	h.Srv.agentOpts.InternalURL, h.Srv.agentOpts.InternalSecret = h.TS.URL, secret
	return h
}

// replica starts a second server on the harness's database: another
// replica of the same deployment.
func (h *harness) sameDBReplica(t *testing.T, secret string) *harness {
	t.Helper()
	renderer, err := web.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelError}))
	srv, err := New(Options{DB: h.DB, Web: renderer, Log: logger, Version: "test", Lab: labForTests(t),
		Grader: grader.New(grader.Policy{}, grader.Options{}), CheckEvery: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	srv.agentOpts.InternalURL, srv.agentOpts.InternalSecret = ts.URL, secret
	return &harness{t: t, DB: h.DB, Srv: srv, TS: ts, hash: h.hash}
}

// listen starts the replica's listener for token changes, as Serve does.
func (h *harness) listenAgents(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); h.Srv.listenAgents(ctx, ready) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("the agent token listener did not start")
	}
}

// syncBuffer is a log sink the agent writes from its goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startAgent runs the real agent against serverURL until the test ends.
func startAgent(t *testing.T, serverURL, token string) *syncBuffer {
	t.Helper()
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- agent.Run(ctx, agent.Config{ServerURL: serverURL, Token: token, DockerSocket: dockerSocket,
			Logger:   slog.New(slog.NewTextHandler(logs, nil)),
			RetryMin: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond, RevokedRetry: 100 * time.Millisecond})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	})
	return logs
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var tokenInPage = regexp.MustCompile(`--token (?:'|&#39;)([A-Za-z0-9_-]{20,})(?:'|&#39;)`)

// makeAgentToken presses "Make an agent token" and reads the token from
// the install line shown once.
func (h *harness) makeAgentToken(c *http.Client) string {
	h.t.Helper()
	resp := h.postForm(c, "/target/agent-token", nil)
	body := readBody(resp)
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("make agent token: %d %.300s", resp.StatusCode, body)
	}
	m := tokenInPage.FindStringSubmatch(body)
	if m == nil {
		h.t.Fatalf("the page shows no install line with the token:\n%s", body)
	}
	if !strings.Contains(body, "shown only now") || !strings.Contains(body, h.TS.URL+"/agent/install.sh") {
		h.t.Errorf("the new token's page lacks the warning or the install script's address")
	}
	return m[1]
}

func connectedHere(h *harness, userID int64) func() bool {
	return func() bool { _, ok := h.Srv.agents.Status(userID); return ok }
}

// latestStatus is the stored status of one check of a student.
func latestRun(t *testing.T, db *store.DB, userID int64, checkID string) store.CheckRun {
	t.Helper()
	runs, err := db.LatestRuns(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.CheckID == checkID {
			return r
		}
	}
	t.Fatalf("no stored result of %s", checkID)
	return store.CheckRun{}
}

func TestAgentTokenConnectCheckAndRevoke(t *testing.T) {
	requireDocker(t)
	h := agentHarness(t, "")
	w := h.world()
	c := h.sessionClient(w.StudentA)
	ctx := context.Background()

	body := readBody(h.get(c, "/target"))
	if !strings.Contains(body, `value="agent" checked`) || !strings.Contains(body, "No agent has connected yet") {
		t.Errorf("a fresh target page does not offer the agent first")
	}
	token := h.makeAgentToken(c)
	if tg, err := h.DB.Target(ctx, w.StudentA.ID); err != nil || tg.DockerMode != "agent" {
		t.Fatalf("after making a token the Docker target is %v (%v), want agent", tg, err)
	}

	// The websocket upgrade survives the middlewares (gzip, the request
	// logger) even when the client offers gzip.
	ws, resp, err := websocket.Dial(ctx, strings.Replace(h.TS.URL, "http", "ws", 1)+agent.ConnectPath, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + token}, "Accept-Encoding": {"gzip"}}})
	if err != nil {
		t.Fatalf("websocket upgrade through the middlewares: %v (%v)", err, resp)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Errorf("upgrade status %d", resp.StatusCode)
	}
	ws.Close(websocket.StatusNormalClosure, "")

	logs := startAgent(t, h.TS.URL, token)
	waitFor(t, 10*time.Second, "the agent connected", connectedHere(h, w.StudentA.ID))
	var sess *store.AgentSession
	waitFor(t, 20*time.Second, "the agent's session stored with its Docker version", func() bool {
		var err error
		sess, err = h.DB.AgentSession(ctx, w.StudentA.ID)
		return err == nil && sess.Connected && sess.DockerVersion != ""
	})
	if sess.DockerVersion == "unreachable" {
		t.Fatalf("the agent could not read the engine's version: %+v", sess)
	}
	body = html.UnescapeString(readBody(h.get(c, "/target")))
	if !strings.Contains(body, "Agent connected since") || !strings.Contains(body, "Docker "+sess.DockerVersion) {
		t.Errorf("the target page does not say the agent is connected with Docker %s", sess.DockerVersion)
	}

	resp = h.postForm(c, "/steps/build-image/check", nil)
	readBody(resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("check: %d", resp.StatusCode)
	}
	r := latestRun(t, h.DB, w.StudentA.ID, "docker-reachable")
	if r.Status != "pass" || !strings.Contains(r.Summary, "through the agent") {
		t.Errorf("docker-reachable through the agent: %s %q", r.Status, r.Summary)
	}

	// Revoking disconnects the agent at once, and it cannot come back.
	resp = h.postForm(c, "/target/agent-token/revoke", nil)
	readBody(resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if connectedHere(h, w.StudentA.ID)() {
		t.Fatal("the agent is still connected after its token was revoked")
	}
	waitFor(t, 20*time.Second, "the agent saw its token refused", func() bool { return strings.Contains(logs.String(), "token revoked or invalid") })
	if connectedHere(h, w.StudentA.ID)() {
		t.Fatal("the agent reconnected with a revoked token")
	}
	waitFor(t, 20*time.Second, "the session stored as ended", func() bool {
		s, err := h.DB.AgentSession(ctx, w.StudentA.ID)
		return err == nil && !s.Connected
	})
	body = readBody(h.get(c, "/target"))
	if !strings.Contains(body, "last seen") || !strings.Contains(body, "is revoked") {
		t.Errorf("after revoking, the page says neither when the agent was last seen nor that the token is revoked")
	}
	resp = h.postForm(c, "/steps/build-image/check", nil)
	readBody(resp)
	if r := latestRun(t, h.DB, w.StudentA.ID, "docker-reachable"); r.Status == "pass" {
		t.Errorf("a check after revoking still reached Docker: %q", r.Summary)
	}
}

func TestAgentReachedThroughAnotherReplica(t *testing.T) {
	requireDocker(t)
	const secret = "replicas-share-this"
	a := agentHarness(t, secret)
	b := a.sameDBReplica(t, secret)
	a.listenAgents(t)
	b.listenAgents(t)
	w := a.world()
	cb := b.sessionClient(w.StudentA)
	ctx := context.Background()

	token := b.makeAgentToken(cb)
	startAgent(t, a.TS.URL, token)
	waitFor(t, 10*time.Second, "the agent connected to replica A", connectedHere(a, w.StudentA.ID))
	if connectedHere(b, w.StudentA.ID)() {
		t.Fatal("the agent is connected to B too")
	}
	if body := readBody(b.get(cb, "/target")); !strings.Contains(body, "Agent connected since") {
		t.Error("replica B's target page does not show the agent connected to A")
	}

	// The check runs on B and reaches the agent through A.
	resp := b.postForm(cb, "/steps/build-image/check", nil)
	readBody(resp)
	if r := latestRun(t, a.DB, w.StudentA.ID, "docker-reachable"); r.Status != "pass" || !strings.Contains(r.Summary, "through the agent") {
		t.Fatalf("docker-reachable on B through A: %s %q %v", r.Status, r.Summary, r.Evidence)
	}

	// The hop needs the shared secret.
	if _, err := agent.DialVia(ctx, a.TS.URL+internalDialPath, "wrong", w.StudentA.ID); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("internal hop with a wrong secret: %v, want a 403", err)
	}
	if conn, err := agent.DialVia(ctx, a.TS.URL+internalDialPath, secret, w.StudentB.ID); !errors.Is(err, agent.ErrNotConnected) {
		if conn != nil {
			conn.Close()
		}
		t.Errorf("internal hop to a student without an agent: %v, want ErrNotConnected", err)
	}

	// A new token made on B disconnects the agent held by A at once.
	b.makeAgentToken(cb)
	waitFor(t, 20*time.Second, "replica A dropped the agent after B rotated its token", func() bool { return !connectedHere(a, w.StudentA.ID)() })
	time.Sleep(300 * time.Millisecond) // several reconnect attempts
	if connectedHere(a, w.StudentA.ID)() || connectedHere(b, w.StudentA.ID)() {
		t.Fatal("the agent reconnected with the old token")
	}
}

// A token revoked while this replica's listener is away from the database
// (the announcement is missed) still ends the session held here, once the
// listener is back.
func TestRevocationMissedByTheListenerIsCaughtOnReconnect(t *testing.T) {
	requireDocker(t)
	h := agentHarness(t, "")
	h.listenAgents(t)
	w := h.world()
	c := h.sessionClient(w.StudentA)
	token := h.makeAgentToken(c)
	startAgent(t, h.TS.URL, token)
	waitFor(t, 20*time.Second, "the agent connected", connectedHere(h, w.StudentA.ID))

	// Revoked behind the listener's back: no announcement at all.
	ctx := context.Background()
	if _, err := h.DB.Pool.Exec(ctx, `UPDATE agent_tokens SET revoked_at = now() WHERE user_id = $1`, w.StudentA.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if !connectedHere(h, w.StudentA.ID)() {
		t.Fatal("the session ended without an announcement: the test proves nothing")
	}
	// The listener's connection dies (as when PostgreSQL restarts), and the
	// listener comes back.
	var killed int
	if err := h.DB.Pool.QueryRow(ctx, `
		SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'listen %workshop_agent_tokens%'`).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminate the listener: %d, %v", killed, err)
	}
	waitFor(t, 20*time.Second, "the session ended after the listener came back", func() bool { return !connectedHere(h, w.StudentA.ID)() })
}
