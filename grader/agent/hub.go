package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/hashicorp/yamux"
)

// Headers the agent sends on its websocket dial: its hello. The agent
// learns them before it dials, so the server knows them from the first
// moment the session exists, with no extra round trip or stream.
const (
	HeaderDockerVersion = "X-Workshop-Docker-Version"
	HeaderHostname      = "X-Workshop-Hostname"
	HeaderAgentVersion  = "X-Workshop-Agent-Version"
)

// ErrNotConnected means the student's agent holds no session with this
// Hub; the grader reports it as "agent not connected".
var ErrNotConnected = errors.New("agent: not connected")

// Verifier maps an agent token to its student; the server implements it
// against the store. A revoked or unknown token is an error.
type Verifier interface {
	VerifyAgentToken(ctx context.Context, token string) (studentID int64, err error)
}

// Status is what the target page shows about a student's agent.
type Status struct {
	// Connected is false only in the Status given to OnDisconnect.
	Connected bool
	// Since is when the session started (UTC); it also identifies it.
	Since time.Time
	// DockerVersion, Hostname and AgentVersion are the agent's hello, as
	// sent (at most 200 bytes each); DockerVersion is "unreachable" when
	// the agent could not read the local engine's version.
	DockerVersion string
	Hostname      string
	AgentVersion  string
}

// The reasons the server gives when it ends a session with a policy
// violation; the agent acts on them (see Run).
const (
	CloseRevoked  = "agent token revoked"
	CloseReplaced = "replaced by a newer connection with the same token"
)

// Hub holds the agents' sessions on one server replica: it accepts their
// websockets (ServeHTTP) and opens tunnelled connections to them (Dial).
type Hub struct {
	verifier Verifier

	// OnConnect and OnDisconnect, when set, are called as sessions start
	// and end so that the server can record "connected since" and "last
	// seen". OnDisconnect is not called for a session replaced by a newer
	// one of the same student on this Hub (the student is still
	// connected); st.Since identifies the session, so a store can ignore a
	// late disconnect of an older session (UPDATE ... WHERE since = $since).
	// They run on the connection's goroutine and should not block long.
	OnConnect    func(studentID int64, st Status)
	OnDisconnect func(studentID int64, st Status)
	// Logger receives connection events; nil means slog.Default().
	Logger *slog.Logger

	mu       sync.Mutex
	sessions map[int64]*session
	closed   bool
	// held counts the registered sessions whose handler has not returned
	// yet: Close waits for them, so OnDisconnect has run (and, on a
	// server, the disconnection is recorded) before the caller goes on to
	// close the store.
	held sync.WaitGroup
}

type session struct {
	mux    *yamux.Session
	ws     *websocket.Conn
	token  string // what it connected with, for Reverify
	status Status
	// replaced is set when a newer session of the same student took over.
	replaced atomic.Bool
}

// NewHub returns a Hub that authenticates agents with v.
func NewHub(v Verifier) *Hub {
	return &Hub{verifier: v, sessions: map[int64]*session{}}
}

func (h *Hub) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// yamuxConfig tunes both ends: keepalives find a dead peer (a server that
// vanished without closing) within a minute, and yamux's own log goes to
// slog instead of stderr.
func yamuxConfig(logger *slog.Logger) *yamux.Config {
	c := yamux.DefaultConfig()
	c.KeepAliveInterval = 20 * time.Second
	c.StreamOpenTimeout = 30 * time.Second
	c.LogOutput = nil
	c.Logger = slog.NewLogLogger(logger.Handler(), slog.LevelDebug)
	return c
}

// ServeHTTP accepts an agent's websocket at the route the server mounts
// (GET /agent/connect): it checks the bearer token, registers the session
// for the token's student (closing an older one), and holds the connection
// until it ends.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		writeJSONError(w, http.StatusUnauthorized, "missing agent token")
		return
	}
	studentID, err := h.verifier.VerifyAgentToken(r.Context(), strings.TrimSpace(token))
	if err != nil {
		// The agent tells the student "token revoked or invalid" on a 401.
		h.logger().Info("agent token refused", "remote", r.RemoteAddr, "err", err)
		writeJSONError(w, http.StatusUnauthorized, "agent token revoked or invalid")
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		h.logger().Info("agent websocket upgrade failed", "student", studentID, "err", err)
		return
	}
	// The session outlives nothing but this handler, which blocks until it
	// ends; its own context ends it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mux, err := yamux.Client(websocket.NetConn(ctx, ws, websocket.MessageBinary), yamuxConfig(h.logger()))
	if err != nil {
		ws.Close(websocket.StatusInternalError, "session setup failed")
		return
	}
	s := &session{mux: mux, ws: ws, token: strings.TrimSpace(token), status: Status{
		Connected:     true,
		Since:         time.Now().UTC(),
		DockerVersion: clip(r.Header.Get(HeaderDockerVersion)),
		Hostname:      clip(r.Header.Get(HeaderHostname)),
		AgentVersion:  clip(r.Header.Get(HeaderAgentVersion)),
	}}
	if !h.register(studentID, s) {
		ws.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	defer h.held.Done()
	h.logger().Info("agent connected", "student", studentID, "hostname", s.status.Hostname,
		"docker", s.status.DockerVersion, "agent", s.status.AgentVersion)
	if h.OnConnect != nil {
		h.OnConnect(studentID, s.status)
	}
	<-mux.CloseChan()
	h.unregister(studentID, s)
	if !s.replaced.Load() {
		h.logger().Info("agent disconnected", "student", studentID)
		if h.OnDisconnect != nil {
			st := s.status
			st.Connected = false
			h.OnDisconnect(studentID, st)
		}
	}
}

// clip keeps a peer-supplied header short enough to store and show.
func clip(s string) string {
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// register makes s the student's session, closing the one it replaces: one
// token, one live agent, so a student who reinstalls the agent is never
// left with a stale tunnel. It reports false once the Hub is closed.
func (h *Hub) register(studentID int64, s *session) bool {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return false
	}
	old := h.sessions[studentID]
	h.sessions[studentID] = s
	h.held.Add(1)
	h.mu.Unlock()
	if old != nil {
		old.replaced.Store(true)
		old.close(websocket.StatusPolicyViolation, CloseReplaced)
	}
	return true
}

// unregister removes s if it is still the student's session.
func (h *Hub) unregister(studentID int64, s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sessions[studentID] == s {
		delete(h.sessions, studentID)
	}
}

func (s *session) close(code websocket.StatusCode, reason string) {
	// The close frame tells the agent why (it logs the reason); closing
	// the websocket also ends the yamux session on top of it.
	_ = s.ws.Close(code, reason)
	_ = s.mux.Close()
}

// Dial opens a new connection to the student's Docker engine through their
// agent. It has the shape of a DialContext once the student is bound:
//
//	client.WithDialContext(func(ctx context.Context, _, _ string) (net.Conn, error) {
//		return hub.Dial(ctx, studentID)
//	})
func (h *Hub) Dial(ctx context.Context, studentID int64) (net.Conn, error) {
	h.mu.Lock()
	s := h.sessions[studentID]
	h.mu.Unlock()
	if s == nil {
		return nil, ErrNotConnected
	}
	return openStream(ctx, s.mux)
}

// openStream is OpenStream bounded by ctx: OpenStream waits when too many
// streams are still unacknowledged.
func openStream(ctx context.Context, mux *yamux.Session) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := mux.OpenStream()
		ch <- result{c, err}
	}()
	select {
	case r := <-ch:
		if errors.Is(r.err, yamux.ErrSessionShutdown) {
			// The session ended between the lookup and the open.
			return nil, ErrNotConnected
		}
		if r.err != nil {
			return nil, fmt.Errorf("agent: open tunnel: %w", r.err)
		}
		return r.c, nil
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.c != nil {
				r.c.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// Reverify asks the Verifier again about the token of every session and
// ends those it now refuses: the server calls it when it may have missed
// a revocation (its listener was away from the database). refused tells a
// refusal from a failure to check (the database still away), which keeps
// the session. It returns how many sessions it ended.
func (h *Hub) Reverify(ctx context.Context, refused func(error) bool) int {
	h.mu.Lock()
	all := make(map[int64]*session, len(h.sessions))
	for id, s := range h.sessions {
		all[id] = s
	}
	h.mu.Unlock()
	ended := 0
	for id, s := range all {
		got, err := h.verifier.VerifyAgentToken(ctx, s.token)
		if (err != nil && refused(err)) || (err == nil && got != id) {
			h.mu.Lock()
			current := h.sessions[id] == s
			if current {
				delete(h.sessions, id)
			}
			h.mu.Unlock()
			if current {
				h.logger().Info("agent token no longer valid: session ended", "student", id)
				s.close(websocket.StatusPolicyViolation, CloseRevoked)
				ended++
			}
		}
	}
	return ended
}

// Disconnect closes the student's session at once; the server calls it
// when the student's token is revoked or rotated (the agent's next connect
// with the old token is then refused by the Verifier).
func (h *Hub) Disconnect(studentID int64) {
	// Forget the session before the close handshake, so that no Dial can
	// use it while the agent acknowledges.
	h.mu.Lock()
	s := h.sessions[studentID]
	delete(h.sessions, studentID)
	h.mu.Unlock()
	if s != nil {
		s.close(websocket.StatusPolicyViolation, CloseRevoked)
	}
}

// Status reports the student's session on this Hub; ok is false when the
// student has none here (they may be connected to another replica).
func (h *Hub) Status(studentID int64) (st Status, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sessions[studentID]
	if s == nil {
		return Status{}, false
	}
	return s.status, true
}

// Close ends every session and refuses new ones; the server calls it on
// shutdown so that agents reconnect, to this replica once it is back or to
// another one, instead of waiting for a keepalive to fail. It returns once
// OnDisconnect has run for every session it ended.
func (h *Hub) Close() error {
	h.mu.Lock()
	h.closed = true
	all := make([]*session, 0, len(h.sessions))
	for _, s := range h.sessions {
		all = append(all, s)
	}
	h.mu.Unlock()
	// In parallel: each close waits for the agent's acknowledgement, and a
	// dead agent would make the others wait.
	var wg sync.WaitGroup
	for _, s := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.close(websocket.StatusGoingAway, "server restarting")
		}()
	}
	wg.Wait()
	// Then the handlers: each runs OnDisconnect once its session has ended.
	h.held.Wait()
	return nil
}
