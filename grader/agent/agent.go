// Package agent is the read-only bridge between the course server and a
// student's Docker host. The agent runs on the student's host, dials the
// server over an outbound websocket (no inbound port, no certificates) and
// answers the grader's Docker Engine API requests from the local socket,
// but only those on its read-only allowlist (Allowed), which it enforces
// itself so that even a compromised server cannot change the host. The
// server side (Hub) accepts the agents and gives the grader a net.Conn per
// Docker API connection; DialVia and ServeInternalDial carry such a
// connection from one server replica to the one holding the agent.
//
// Wire protocol: a websocket at SERVER/agent/connect with "Authorization:
// Bearer TOKEN" and the agent's hello in X-Workshop-* headers; binary
// messages carry a yamux session in which the server opens one stream per
// Docker API connection and speaks plain HTTP/1.1 on it.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/hashicorp/yamux"
)

// Version is the agent's version, sent in its hello; release builds set it
// with -ldflags "-X github.com/coursekit/workshop/grader/agent.Version=v1.2.3".
var Version = "dev"

// DefaultDockerSocket is where Docker listens on a stock Linux host.
const DefaultDockerSocket = "/var/run/docker.sock"

// ConnectPath is the route the server mounts Hub.ServeHTTP on.
const ConnectPath = "/agent/connect"

// Config says where the agent connects and which engine it serves.
type Config struct {
	// ServerURL is the course server's address, https://course.example.com
	// (http:// for a server without TLS, in a lab or a test).
	ServerURL string
	// Token is the student's agent token from the target page.
	Token string
	// DockerSocket is the engine's unix socket; empty means
	// DefaultDockerSocket.
	DockerSocket string
	// Logger receives connection events and every refused request; nil
	// means slog.Default().
	Logger *slog.Logger
	// RetryMin and RetryMax bound the reconnect backoff (defaults 1 s and
	// 30 s); RevokedRetry is the wait after the server refused the token
	// (default 5 min). Tests shorten them.
	RetryMin, RetryMax, RevokedRetry time.Duration
}

func (c Config) withDefaults() Config {
	if c.DockerSocket == "" {
		c.DockerSocket = DefaultDockerSocket
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.RetryMin <= 0 {
		c.RetryMin = time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 30 * time.Second
	}
	if c.RevokedRetry <= 0 {
		c.RevokedRetry = 5 * time.Minute
	}
	return c
}

// connectURL turns the server's address into the websocket address.
func connectURL(server string) (string, error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", fmt.Errorf("server address %q: %w", server, err)
	}
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	case "http":
		u.Scheme = "ws"
	default:
		return "", fmt.Errorf("server address %q must start with https:// (or http://)", server)
	}
	if u.Host == "" {
		return "", fmt.Errorf("server address %q has no host", server)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + ConnectPath
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

// errUnauthorized means the server refused the token, at connect time or
// by ending the session because the token was revoked.
var errUnauthorized = errors.New("token revoked or invalid")

// errReplaced means another agent connected with the same token and the
// server dropped this one in its favour.
var errReplaced = errors.New("another agent connected with the same token")

// Run keeps the agent connected until ctx ends, and then returns nil; it
// returns an error only for a configuration it cannot use.
//
// Between connections it waits with exponential backoff and full jitter
// (RetryMin doubling up to RetryMax), so that a restarted server is not hit
// by every agent at once. When the server refuses the token (401/403) the
// agent logs "token revoked or invalid" and keeps trying every RevokedRetry
// rather than exiting: a service manager would restart it anyway, and a
// refusal can be transient (a server restored from a backup, a proxy in
// front of it misconfigured), while the student's fix, a new token, means
// restarting the agent with it. A session the server ends because the
// token was revoked counts as such a refusal. A session ended because
// another agent connected with the same token waits as long too, so that
// two agents sharing a token do not keep taking the session from each
// other.
func Run(ctx context.Context, cfg Config) error {
	cfg = cfg.withDefaults()
	wsURL, err := connectURL(cfg.ServerURL)
	if err != nil {
		return err
	}
	if cfg.Token == "" {
		return errors.New("no agent token: pass --token or set WORKSHOP_AGENT_TOKEN")
	}
	log := cfg.Logger
	eng := newEngine(cfg.DockerSocket, log)
	attempt := 0
	for {
		lasted, err := runSession(ctx, cfg, wsURL, eng)
		if ctx.Err() != nil {
			return nil
		}
		var wait time.Duration
		if errors.Is(err, errUnauthorized) {
			attempt = 0
			wait = cfg.RevokedRetry/2 + rand.N(cfg.RevokedRetry/2+1)
			log.Error("token revoked or invalid: the course server refused this agent's token; "+
				"create a new token on the target page and restart the agent with it",
				"server", cfg.ServerURL, "reason", err, "retry_in", wait.Round(time.Second))
		} else if errors.Is(err, errReplaced) {
			// Retrying at once would take the session back from the other
			// agent, which would do the same: the two would alternate.
			attempt = 0
			wait = cfg.RevokedRetry/2 + rand.N(cfg.RevokedRetry/2+1)
			log.Error("another agent connected to the course server with this token and replaced this one; "+
				"stop the agent you no longer use (one token, one agent)",
				"server", cfg.ServerURL, "retry_in", wait.Round(time.Second))
		} else {
			// A session that held for a while proves the path works:
			// start the backoff over.
			if lasted > cfg.RetryMax {
				attempt = 0
			}
			wait = backoff(cfg.RetryMin, cfg.RetryMax, attempt)
			attempt++
			log.Warn("not connected to the course server", "err", err, "retry_in", wait.Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// backoff is "full jitter": a uniform wait in [0, min(max, min·2^attempt)].
func backoff(lo, hi time.Duration, attempt int) time.Duration {
	d := hi
	if attempt < 30 && lo<<attempt < hi {
		d = lo << attempt
	}
	return rand.N(d + 1)
}

// runSession runs one connection to the server and reports how long it was
// up and why it ended.
func runSession(ctx context.Context, cfg Config, wsURL string, eng *engine) (time.Duration, error) {
	h := hello(ctx, eng)
	h.Set("Authorization", "Bearer "+cfg.Token)
	dialCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	ws, resp, err := websocket.Dial(dialCtx, wsURL, &websocket.DialOptions{
		HTTPHeader:      h,
		CompressionMode: websocket.CompressionDisabled,
	})
	cancel()
	if err != nil {
		if resp != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
			return 0, fmt.Errorf("%w (HTTP %d)", errUnauthorized, resp.StatusCode)
		}
		return 0, fmt.Errorf("connect to %s: %w", wsURL, err)
	}
	start := time.Now()
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	nc := &firstErrConn{Conn: websocket.NetConn(sctx, ws, websocket.MessageBinary)}
	mux, err := yamux.Server(nc, yamuxConfig(cfg.Logger))
	if err != nil {
		ws.CloseNow()
		return 0, err
	}
	defer mux.Close()
	go func() {
		<-sctx.Done()
		ws.Close(websocket.StatusGoingAway, "agent stopping")
	}()
	cfg.Logger.Info("connected to the course server; answering read-only Docker requests",
		"server", cfg.ServerURL, "docker_socket", cfg.DockerSocket)
	for {
		st, err := mux.AcceptStream()
		if err != nil {
			break
		}
		go eng.serveStream(sctx, st)
	}
	return time.Since(start), closeReason(nc.err())
}

// closeReason turns the websocket's end into a message for the host's log,
// keeping the server's reason ("agent token revoked", "replaced by a newer
// connection with the same token", "server restarting").
func closeReason(err error) error {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		if ce.Code == websocket.StatusPolicyViolation {
			switch ce.Reason {
			case CloseRevoked:
				return fmt.Errorf("%w (the server closed the session: %s)", errUnauthorized, ce.Reason)
			case CloseReplaced:
				return errReplaced
			}
		}
		return fmt.Errorf("server closed the connection: %s (%s)", ce.Reason, ce.Code)
	}
	if err == nil || errors.Is(err, io.EOF) {
		return errors.New("server closed the connection")
	}
	return fmt.Errorf("connection lost: %w", err)
}

// firstErrConn remembers why reading stopped, which yamux does not expose.
type firstErrConn struct {
	net.Conn
	mu    sync.Mutex
	first error
}

func (c *firstErrConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		c.mu.Lock()
		if c.first == nil {
			c.first = err
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *firstErrConn) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.first
}

// hello is what the agent tells the server when it connects. The Docker
// version is read before each dial, so a Docker upgrade shows up on the
// target page at the next reconnect; an engine that is down is reported as
// "unreachable" rather than stopping the agent, since the grader's own
// checks explain that better.
func hello(ctx context.Context, eng *engine) http.Header {
	h := http.Header{}
	h.Set(HeaderAgentVersion, Version)
	if name, err := os.Hostname(); err == nil {
		h.Set(HeaderHostname, name)
	}
	h.Set(HeaderDockerVersion, "unreachable")
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://docker/version", nil)
	if err != nil {
		return h
	}
	resp, err := eng.transport.RoundTrip(req)
	if err != nil {
		return h
	}
	defer resp.Body.Close()
	var v struct{ Version, APIVersion string }
	if resp.StatusCode == http.StatusOK && json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&v) == nil && v.Version != "" {
		h.Set(HeaderDockerVersion, v.Version+" (API "+v.APIVersion+")")
	}
	return h
}
