package agent

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The internal hop: a check runs on whichever replica took the request, but
// the agent's websocket lives on one replica. The replica that needs the
// agent opens an HTTP/1.1 Upgrade to the holder's internal endpoint
// (ServeInternalDial), which splices the upgraded connection onto a new
// yamux stream to the agent; to the grader's Docker client the result is
// one more net.Conn. Which replica holds which agent is the server's
// business (a PostgreSQL row per connected student, kept by OnConnect and
// OnDisconnect).

// TunnelProtocol is the Upgrade token of the internal hop.
const TunnelProtocol = "workshop-agent-tunnel"

// InternalSecretHeader carries the replicas' shared secret on the internal
// hop. DialVia sets it; the server checks it before ServeInternalDial runs.
const InternalSecretHeader = "X-Workshop-Internal-Secret"

// ServeInternalDial is the holding replica's half of the internal hop: for
// "?student=ID" with "Upgrade: workshop-agent-tunnel" it opens a stream to
// that student's agent and splices the connection onto it. It answers 404
// when the agent is not connected here (the row the caller followed is
// stale). It does not check the shared secret: the server mounts it behind
// that check, on an address only replicas reach.
func (h *Hub) ServeInternalDial(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), TunnelProtocol) {
		writeJSONError(w, http.StatusBadRequest, "expected Upgrade: "+TunnelProtocol)
		return
	}
	studentID, err := strconv.ParseInt(r.URL.Query().Get("student"), 10, 64)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "student must be a number")
		return
	}
	stream, err := h.Dial(r.Context(), studentID)
	if errors.Is(err, ErrNotConnected) {
		writeJSONError(w, http.StatusNotFound, "agent not connected to this replica")
		return
	}
	if err != nil {
		writeJSONError(w, http.StatusBadGateway, err.Error())
		return
	}
	defer stream.Close()
	rc := http.NewResponseController(w)
	conn, brw, err := rc.Hijack()
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, "connection cannot be hijacked")
		return
	}
	defer conn.Close()
	if _, err := io.WriteString(brw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: "+TunnelProtocol+"\r\n\r\n"); err != nil {
		return
	}
	if err := brw.Flush(); err != nil {
		return
	}
	splice(&bufferedConn{Conn: conn, r: brw.Reader}, stream)
}

// splice copies both ways until either side ends, then closes both, so
// that neither the caller nor the agent keeps a half-dead stream.
func splice(a, b net.Conn) {
	var once sync.Once
	done := make(chan struct{})
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		once.Do(func() { close(done) })
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	a.Close()
	b.Close()
}

// bufferedConn reads what the HTTP reader already buffered before reading
// the connection itself.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// Dialer returns the Target.Docker.Dial of a student for this replica: the
// local session when this Hub holds the agent, else the internal hop to the
// replica that lookup names (the server reads it from PostgreSQL). A nil
// lookup means a single replica.
func (h *Hub) Dialer(studentID int64, secret string, lookup func(ctx context.Context, studentID int64) (internalURL string, err error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, _, _ string) (net.Conn, error) {
		c, err := h.Dial(ctx, studentID)
		if !errors.Is(err, ErrNotConnected) || lookup == nil {
			return c, err
		}
		internalURL, err := lookup(ctx, studentID)
		if err != nil {
			return nil, err
		}
		if internalURL == "" {
			return nil, ErrNotConnected
		}
		return DialVia(ctx, internalURL, secret, studentID)
	}
}

// DialVia is the other half: it reaches the student's agent through the
// replica whose internal endpoint is internalURL (the full URL where that
// replica mounted ServeInternalDial, e.g. http://10.0.1.7:8081/internal/agent-dial)
// and returns the tunnelled connection. A 404 from the holder is returned
// as ErrNotConnected.
func DialVia(ctx context.Context, internalURL, secret string, studentID int64) (net.Conn, error) {
	u, err := url.Parse(internalURL)
	if err != nil {
		return nil, fmt.Errorf("agent: internal address %q: %w", internalURL, err)
	}
	q := u.Query()
	q.Set("student", strconv.FormatInt(studentID, 10))
	u.RawQuery = q.Encode()
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	var conn net.Conn
	switch u.Scheme {
	case "http":
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", host)
	case "https":
		d := tls.Dialer{Config: &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}}
		conn, err = d.DialContext(ctx, "tcp", host)
	default:
		return nil, fmt.Errorf("agent: internal address %q must be http:// or https://", internalURL)
	}
	if err != nil {
		return nil, fmt.Errorf("agent: reach replica %s: %w", u.Host, err)
	}
	// The handshake is bounded by ctx (and by a default when ctx has no
	// deadline); the tunnel it yields is not: it lives as long as the
	// Docker client keeps the connection.
	deadline, hasDeadline := ctx.Deadline()
	if !hasDeadline {
		deadline = time.Now().Add(15 * time.Second)
	}
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c, err := tunnelHandshake(conn, u, secret)
	if !stop() && err == nil {
		c.Close()
		return nil, ctx.Err()
	}
	if err != nil {
		conn.Close()
		if hasDeadline && !time.Now().Before(deadline) {
			// The connection's deadline is ctx's: the timeout is ctx's,
			// even if its timer has not fired yet.
			<-ctx.Done()
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("agent: internal dial via %s: %w", u.Host, ctx.Err())
		}
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return c, nil
}

// tunnelHandshake asks for the upgrade on conn and returns the tunnel.
func tunnelHandshake(conn net.Conn, u *url.URL, secret string) (net.Conn, error) {
	req, _ := http.NewRequest("GET", u.String(), nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", TunnelProtocol)
	req.Header.Set(InternalSecretHeader, secret)
	if err := req.Write(conn); err != nil {
		return nil, fmt.Errorf("agent: internal dial via %s: %w", u.Host, err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, fmt.Errorf("agent: internal dial via %s: %w", u.Host, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return nil, ErrNotConnected
		}
		return nil, fmt.Errorf("agent: internal dial via %s: %s: %s", u.Host, resp.Status, strings.TrimSpace(string(body)))
	}
	return &bufferedConn{Conn: conn, r: br}, nil
}
