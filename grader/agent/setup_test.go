package agent

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/coursekit/workshop/internal/testenv"
	"github.com/docker/docker/client"
)

// tokens is a Verifier backed by a map, with revocation.
type tokens struct {
	mu sync.Mutex
	m  map[string]int64
}

func (v *tokens) VerifyAgentToken(_ context.Context, token string) (int64, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	id, ok := v.m[token]
	if !ok {
		return 0, errors.New("unknown or revoked token")
	}
	return id, nil
}

func (v *tokens) revoke(token string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.m, token)
}

// logBuffer is a goroutine-safe log sink the tests read.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

const testSecret = "replica-secret"

// replica is one server process: a Hub behind an HTTP server, with the
// connect route and the internal hop mounted as the real server mounts them.
type replica struct {
	hub  *Hub
	srv  *httptest.Server
	logs *logBuffer
}

func startReplica(t *testing.T, v Verifier, ln net.Listener) *replica {
	t.Helper()
	hub := NewHub(v)
	logs := &logBuffer{}
	hub.Logger = slog.New(slog.NewTextHandler(logs, nil))
	mux := http.NewServeMux()
	mux.Handle("GET "+ConnectPath, hub)
	mux.HandleFunc("GET /internal/agent-dial", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(InternalSecretHeader) != testSecret {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		hub.ServeInternalDial(w, r)
	})
	srv := httptest.NewUnstartedServer(mux)
	// Short timeouts, as a production server has longer ones: sessions and
	// tunnels, which are hijacked connections, must not inherit them.
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Config.WriteTimeout = 300 * time.Millisecond
	if ln != nil {
		srv.Listener.Close()
		srv.Listener = ln
	}
	srv.Start()
	r := &replica{hub: hub, srv: srv, logs: logs}
	t.Cleanup(r.stop)
	return r
}

// stop is a server going away: its Hub drops the agents, its listener closes.
func (r *replica) stop() {
	r.hub.Close()
	r.srv.Close()
}

// startAgent runs the agent against serverURL until the test ends.
func startAgent(t *testing.T, serverURL, token string) *logBuffer {
	t.Helper()
	logs := &logBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := Run(ctx, Config{
			ServerURL: serverURL, Token: token,
			Logger:   slog.New(slog.NewTextHandler(logs, nil)),
			RetryMin: 20 * time.Millisecond, RetryMax: 300 * time.Millisecond, RevokedRetry: 200 * time.Millisecond,
		})
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return logs
}

// requireDocker skips (or fails under CI) without a local engine.
func requireDocker(t *testing.T) *client.Client {
	t.Helper()
	c, err := client.NewClientWithOpts(client.WithHost("unix://"+DefaultDockerSocket), client.WithAPIVersionNegotiation())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = c.Ping(ctx)
	}
	testenv.Require(t, "docker", err)
	t.Cleanup(func() { c.Close() })
	return c
}

// tunnelClient is the grader's Docker client, dialing through dial.
func tunnelClient(t *testing.T, dial func(ctx context.Context) (net.Conn, error)) *client.Client {
	t.Helper()
	c, err := client.NewClientWithOpts(
		client.WithHost("tcp://docker:2375"),
		client.WithAPIVersionNegotiation(),
		client.WithDialContext(func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) }),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitFor polls cond for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func connected(h *Hub, id int64) func() bool {
	return func() bool { _, ok := h.Status(id); return ok }
}
