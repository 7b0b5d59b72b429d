package agent

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// refusalBody is what the server's Docker client gets for a refused
// request; the client surfaces "message" as the error text.
const refusalBody = `{"message":"refused by the workshop agent: read-only"}` + "\n"

// requestTimeout bounds one forwarded request, so that a misbehaving server
// cannot pin the agent's connections to the engine.
const requestTimeout = 2 * time.Minute

// idleTimeout bounds the wait for the next request on a tunnelled
// connection; the grader's client drops idle connections well before.
const idleTimeout = 2 * time.Minute

// maxInFlight bounds the requests the agent forwards at once, so that a
// misbehaving server cannot load the engine with reads (/system/df is not
// cheap) or hold unbounded resources on the host.
const maxInFlight = 8

// maxRequestHeader bounds what a request may carry before the agent refuses
// it; the grader's requests are a few hundred bytes.
const maxRequestHeader = 64 << 10

// engine forwards allowed requests to the local Docker socket.
type engine struct {
	socket    string
	logger    *slog.Logger
	transport *http.Transport
	inFlight  chan struct{}
}

func newEngine(socket string, logger *slog.Logger) *engine {
	d := net.Dialer{Timeout: 5 * time.Second}
	return &engine{
		socket:   socket,
		logger:   logger,
		inFlight: make(chan struct{}, maxInFlight),
		transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return d.DialContext(ctx, "unix", socket)
			},
			// The body must reach the server byte for byte, as the engine
			// wrote it.
			DisableCompression: true,
			MaxIdleConns:       4,
			IdleConnTimeout:    30 * time.Second,
		},
	}
}

// serveStream answers the HTTP/1.1 requests of one tunnelled connection,
// one after another (keep-alive), until the server closes it.
func (e *engine) serveStream(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	lim := &io.LimitedReader{R: conn}
	br := bufio.NewReaderSize(lim, 4096)
	for {
		// The limit is renewed per request: requests carry no body the
		// agent reads, so this caps the header a server can send.
		lim.N = maxRequestHeader
		_ = conn.SetReadDeadline(time.Now().Add(idleTimeout))
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		_ = conn.SetReadDeadline(time.Time{})
		keep, err := e.serveOne(ctx, conn, req)
		if err != nil || !keep {
			return
		}
	}
}

// serveOne answers one request and reports whether the connection may
// carry another one.
func (e *engine) serveOne(ctx context.Context, w io.Writer, req *http.Request) (bool, error) {
	ok, reason := checkRequest(req.Method, req.RequestURI)
	if ok {
		ok, reason = checkShape(req)
	}
	if !ok {
		e.logger.Warn("refused request from the course server",
			"method", req.Method, "path", req.RequestURI, "reason", reason)
		// A request that carries a body is refused without reading the
		// body, so the connection cannot be reused: close it.
		hasBody := req.ContentLength != 0 || len(req.TransferEncoding) > 0
		return !hasBody, writeRefusal(w, req, hasBody)
	}
	return e.forward(ctx, w, req)
}

// checkShape refuses what the path check cannot see: a body on a read,
// and any attempt to turn the connection into a raw stream (attach, exec
// and build all hijack the connection with an Upgrade).
func checkShape(req *http.Request) (bool, string) {
	if req.ContentLength != 0 || len(req.TransferEncoding) > 0 {
		return false, "request body on a read"
	}
	if req.Header.Get("Upgrade") != "" || headerHasToken(req.Header, "Connection", "upgrade") {
		return false, "connection upgrade (hijack)"
	}
	return true, ""
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), token) {
				return true
			}
		}
	}
	return false
}

func writeRefusal(w io.Writer, req *http.Request, closeAfter bool) error {
	resp := &http.Response{
		StatusCode:    http.StatusForbidden,
		ProtoMajor:    1,
		ProtoMinor:    1,
		Request:       req,
		Header:        http.Header{"Content-Type": {"application/json"}},
		ContentLength: int64(len(refusalBody)),
		Body:          io.NopCloser(strings.NewReader(refusalBody)),
		Close:         closeAfter,
	}
	return resp.Write(w)
}

func writeError(w io.Writer, req *http.Request, status int, msg string) error {
	body := `{"message":` + strconv.Quote("workshop agent: "+msg) + "}\n"
	resp := &http.Response{
		StatusCode:    status,
		ProtoMajor:    1,
		ProtoMinor:    1,
		Request:       req,
		Header:        http.Header{"Content-Type": {"application/json"}},
		ContentLength: int64(len(body)),
		Body:          io.NopCloser(strings.NewReader(body)),
	}
	return resp.Write(w)
}

// hopHeaders are connection-level headers that must not be passed on.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization",
	"Proxy-Authenticate", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// forward sends an allowed request to the engine and copies the answer
// back. The request URL is rebuilt from the checked request target, so the
// engine sees exactly the path the allowlist saw.
func (e *engine) forward(ctx context.Context, w io.Writer, req *http.Request) (bool, error) {
	p, q, _ := strings.Cut(req.RequestURI, "?")
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	select {
	case e.inFlight <- struct{}{}:
		defer func() { <-e.inFlight }()
	case <-ctx.Done():
		return false, ctx.Err()
	}
	out, err := http.NewRequestWithContext(ctx, req.Method, "http://docker", nil)
	if err != nil {
		return false, err
	}
	out.URL = &url.URL{Scheme: "http", Host: "docker", Path: p, RawQuery: q}
	out.Header = req.Header.Clone()
	for _, h := range hopHeaders {
		out.Header.Del(h)
	}
	out.Host = "docker"
	resp, err := e.transport.RoundTrip(out)
	if err != nil {
		e.logger.Warn("docker engine unreachable", "socket", e.socket, "err", err)
		return true, writeError(w, req, http.StatusBadGateway, "cannot reach the local Docker engine at "+e.socket)
	}
	defer resp.Body.Close()
	resp.Request = req
	// Without a length or chunking the body ends when the connection
	// closes, so this connection must close after it.
	bodyless := req.Method == http.MethodHead || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified
	closeAfter := req.Close || resp.Close || (!bodyless && resp.ContentLength < 0 && len(resp.TransferEncoding) == 0)
	resp.Close = closeAfter
	if err := resp.Write(w); err != nil {
		return false, err
	}
	return !closeAfter, nil
}
