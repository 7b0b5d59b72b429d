package server

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgxlisten"
	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/grader/agent"
	"github.com/coursekit/workshop/store"
)

// AgentOptions configure the server side of the read-only Docker agent.
type AgentOptions struct {
	// InternalURL is this replica's own base URL as the other replicas
	// reach it (http://10.0.1.7:8080): a check on another replica reaches
	// an agent connected here through InternalURL/internal/agent-dial.
	InternalURL string
	// InternalSecret is shared by every replica; without it the internal
	// hop is off (a single replica needs none).
	InternalSecret string
	// DownloadsDir holds workshop-linux-amd64, workshop-linux-arm64 and
	// SHA256SUMS, served at /downloads/ for the install script.
	DownloadsDir string
	// Image is a container image carrying the workshop binary, for the
	// "docker run" way to start the agent; empty leaves that way out.
	Image string
}

// internalDialPath is where a replica mounts its half of the internal hop.
const internalDialPath = "/internal/agent-dial"

// agentDownloads are the only files /downloads/ serves.
var agentDownloads = map[string]string{
	"workshop-linux-amd64": "application/octet-stream",
	"workshop-linux-arm64": "application/octet-stream",
	"SHA256SUMS":           "text/plain; charset=utf-8",
}

// agentVerifier checks agent tokens against the store: unknown and revoked
// tokens are refused.
type agentVerifier struct{ db *store.DB }

func (v agentVerifier) VerifyAgentToken(ctx context.Context, token string) (int64, error) {
	return v.db.AgentTokenUser(ctx, hashToken(token))
}

// initAgents makes the replica's agent hub and records sessions as they
// start and end, so that every replica knows where each agent is.
func (s *Server) initAgents(o AgentOptions) {
	s.agentOpts = o
	h := agent.NewHub(agentVerifier{s.db})
	h.Logger = s.log
	h.OnConnect = func(userID int64, st agent.Status) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := s.db.AgentConnected(ctx, store.AgentSession{UserID: userID, InternalURL: s.agentOpts.InternalURL, Since: st.Since,
			DockerVersion: st.DockerVersion, Hostname: st.Hostname, AgentVersion: st.AgentVersion})
		if err != nil {
			s.log.Warn("record agent connection", "user", userID, "err", err)
		}
	}
	h.OnDisconnect = func(userID int64, st agent.Status) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := s.db.AgentDisconnected(ctx, userID, st.Since); err != nil {
			s.log.Warn("record agent disconnection", "user", userID, "err", err)
		}
	}
	s.agents = h
	s.agentDial = func(userID int64) func(ctx context.Context, network, addr string) (net.Conn, error) {
		return h.Dialer(userID, s.agentOpts.InternalSecret, s.agentReplica)
	}
}

// agentReplica is where another replica holds the student's agent: the
// full URL of its internal endpoint, or "" when no replica does (or when
// the internal hop is off).
func (s *Server) agentReplica(ctx context.Context, userID int64) (string, error) {
	if s.agentOpts.InternalSecret == "" {
		return "", nil
	}
	sess, err := s.db.AgentSession(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if !sess.Connected || sess.Stale || sess.InternalURL == "" || sess.InternalURL == s.agentOpts.InternalURL {
		// This replica was asked first and has no session: the row is
		// stale or the agent is between two connections.
		return "", nil
	}
	return strings.TrimSuffix(sess.InternalURL, "/") + internalDialPath, nil
}

// agentConnect is GET /agent/connect: the agent's websocket, authenticated
// by its bearer token (no session, no CSRF: see skipCSRF).
func (s *Server) agentConnect(c echo.Context) error {
	s.agents.ServeHTTP(c.Response(), c.Request())
	return nil
}

// internalAgentDial is GET /internal/agent-dial: another replica's hop to
// an agent connected here. Only replicas know the shared secret; without
// one configured the endpoint does not exist.
func (s *Server) internalAgentDial(c echo.Context) error {
	secret := s.agentOpts.InternalSecret
	if secret == "" {
		return Errorf(http.StatusNotFound, "Not found.")
	}
	got := c.Request().Header.Get(agent.InternalSecretHeader)
	if subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1 {
		return Errorf(http.StatusForbidden, "The internal secret does not match: every replica needs the same WORKSHOP_INTERNAL_SECRET.")
	}
	s.agents.ServeInternalDial(c.Response(), c.Request())
	return nil
}

// createAgentToken is POST /target/agent-token: a new token, shown once on
// the target page with the install commands. An older token stops working
// at once on every replica (the store announces it; see listenAgents).
func (s *Server) createAgentToken(c echo.Context) error {
	u := s.currentUser(c)
	ctx := c.Request().Context()
	tok := newToken()
	if err := s.db.SetAgentToken(ctx, u.ID, hashToken(tok), tok[len(tok)-4:]); err != nil {
		return err
	}
	s.agents.Disconnect(u.ID)
	if err := s.db.UseAgentIfUnset(ctx, u.ID); err != nil {
		return err
	}
	p, err := s.targetView(c, nil)
	if err != nil {
		return err
	}
	p.Agent = s.fillAgentSnippets(c, p.Agent, tok)
	return s.render(c, "target", p)
}

// revokeAgentToken is POST /target/agent-token/revoke: the agent is
// disconnected at once, wherever it is, and cannot connect again.
func (s *Server) revokeAgentToken(c echo.Context) error {
	u := s.currentUser(c)
	if err := s.db.RevokeAgentToken(c.Request().Context(), u.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s.agents.Disconnect(u.ID)
	return c.Redirect(http.StatusSeeOther, "/target#agent")
}

// agentInstallScript is GET /agent/install.sh, with this server's address
// baked in.
func (s *Server) agentInstallScript(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "text/x-shellscript; charset=utf-8", []byte(agent.InstallScript(s.publicBase(c))))
}

// download is GET /downloads/:file: the agent's binaries and their
// checksums, from the downloads folder.
func (s *Server) download(c echo.Context) error {
	name := c.Param("file")
	ctype, ok := agentDownloads[name]
	if !ok || s.agentOpts.DownloadsDir == "" {
		return Errorf(http.StatusNotFound, "There is no download %q.", name)
	}
	f, err := os.Open(filepath.Join(s.agentOpts.DownloadsDir, name))
	if errors.Is(err, os.ErrNotExist) {
		return Errorf(http.StatusNotFound, "The agent's binaries are not on this server yet (they are built at start, or shipped with a release); try again in a minute or ask your instructor.")
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentType, ctype)
	c.Response().Header().Set("Cache-Control", "no-cache")
	http.ServeContent(c.Response(), c.Request(), name, st.ModTime(), f)
	return nil
}

// agentChecksums reads SHA256SUMS from the downloads folder (nil when
// there is none yet).
func (s *Server) agentChecksums() map[string]string {
	if s.agentOpts.DownloadsDir == "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(s.agentOpts.DownloadsDir, "SHA256SUMS"))
	if err != nil {
		return nil
	}
	return agent.ParseChecksums(b)
}

// agentListener hears token changes on store.AgentChannel and disconnects
// the student's agent if this replica holds it.
type agentListener struct {
	s     *Server
	ready chan struct{}
}

func (l *agentListener) HandleNotification(_ context.Context, n *pgconn.Notification, _ *pgx.Conn) error {
	var ev store.AgentTokenEvent
	if err := json.Unmarshal([]byte(n.Payload), &ev); err != nil {
		return fmt.Errorf("agent token event: %w", err)
	}
	l.s.agents.Disconnect(ev.UserID)
	return nil
}

// HandleBacklog runs after every (re)connection of the listener: a token
// revoked while it was away was announced to nobody here, so every session
// this replica holds is checked again.
func (l *agentListener) HandleBacklog(ctx context.Context, _ string, _ *pgx.Conn) error {
	if l.ready != nil {
		select {
		case <-l.ready:
		default:
			close(l.ready)
		}
	}
	go func() {
		if n := l.s.agents.Reverify(ctx, func(err error) bool { return errors.Is(err, store.ErrNotFound) }); n > 0 {
			l.s.log.Info("ended the sessions of agents whose token was revoked while the listener was away", "count", n)
		}
	}()
	return nil
}

// listenAgents keeps a LISTEN on store.AgentChannel until ctx ends; ready,
// when not nil, is closed once the LISTEN is in place. A token revoked
// while the listener is away from the database (PostgreSQL restarting) is
// caught when it is back: HandleBacklog checks every session again.
func (s *Server) listenAgents(ctx context.Context, ready chan struct{}) {
	l := &pgxlisten.Listener{
		Connect: func(ctx context.Context) (*pgx.Conn, error) {
			return pgx.ConnectConfig(ctx, s.db.Pool.Config().ConnConfig.Copy())
		},
		LogError: func(ctx context.Context, err error) {
			if ctx.Err() == nil {
				s.log.Warn("agent tokens: listener lost its connection; reconnecting", "err", err)
			}
		},
		ReconnectDelay: time.Second,
	}
	l.Handle(store.AgentChannel, &agentListener{s: s, ready: ready})
	_ = l.Listen(ctx)
}

// startAgents is the agent part of Serve: rows this replica left
// "connected" in a previous run are stale, and token changes must reach
// this replica's sessions.
func (s *Server) startAgents(ctx context.Context) {
	if s.agentOpts.InternalURL != "" {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if n, err := s.db.ResetAgentSessions(rctx, s.agentOpts.InternalURL); err != nil {
			s.log.Warn("reset stale sessions of agents", "err", err)
		} else if n > 0 {
			s.log.Info("marked the sessions of agents from a previous run as ended", "count", n)
		}
		cancel()
	}
	go s.listenAgents(ctx, nil)
	if s.agentOpts.InternalURL != "" {
		go s.confirmAgents(ctx)
	}
}

// confirmAgents keeps this replica's sessions fresh in the database until
// ctx ends, so that the sessions of a replica that died count as stale.
func (s *Server) confirmAgents(ctx context.Context) {
	t := time.NewTicker(store.AgentStaleAfter / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.db.TouchAgentSessions(ctx, s.agentOpts.InternalURL); err != nil && ctx.Err() == nil {
				s.log.Warn("confirm the sessions of agents", "err", err)
			}
		}
	}
}
