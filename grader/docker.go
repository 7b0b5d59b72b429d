package grader

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/client"
)

// Policy is what the server's admin allows for every target; a cohort can
// only add AllowPrivate (Target.AllowPrivate), never loopback or plain
// Docker endpoints.
type Policy struct {
	// AllowPlainDocker accepts tcp:// without TLS and unix:// endpoints
	// (local labs, tests, the CLI on the student's own machine); unix://
	// also needs AllowLoopback, since it is this server's own engine.
	AllowPlainDocker bool
	// AllowLoopback lets the guard reach 127/8 and ::1.
	AllowLoopback bool
	// AllowPrivate lets the guard reach private ranges for every cohort.
	AllowPrivate bool
}

// minAPIVersion is the oldest Engine API the checks rely on (Docker 20.10):
// older engines lack fields the checks read.
const minAPIVersion = "1.41"

// configError is a target that cannot be used as entered (bad PEM, an
// endpoint the server does not allow); the student fixes the settings page.
type configError struct{ kind, msg, hint string }

func (e *configError) Error() string { return e.msg }

// dialTrace keeps the last connection error the transport saw, because the
// Docker client replaces refused and timed-out dials by one generic
// "Cannot connect to the Docker daemon" message.
type dialTrace struct {
	mu  sync.Mutex
	err error
}

func (d *dialTrace) set(err error) {
	if err == nil {
		return
	}
	d.mu.Lock()
	d.err = err
	d.mu.Unlock()
}

func (d *dialTrace) get() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// dockerConn is a Docker client for one target plus what the diagnosis
// needs to know about how it connects.
type dockerConn struct {
	cli      *client.Client
	endpoint string
	tls      bool
	trace    *dialTrace
	close    func()
}

// newDockerConn builds the client for a target. Every TCP connection goes
// through the guard except the agent's tunnel, which the server itself
// holds; every request goes through readOnlyTransport.
func newDockerConn(t DockerTarget, p Policy, g *Guard, wrap func(http.RoundTripper) http.RoundTripper) (*dockerConn, error) {
	ep := strings.TrimSpace(t.Endpoint)
	dc := &dockerConn{endpoint: ep, trace: &dialTrace{}}
	tr := &http.Transport{
		Proxy:                 nil,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		IdleConnTimeout:       30 * time.Second,
		MaxIdleConnsPerHost:   4,
	}
	var host string
	switch {
	case t.Dial != nil:
		// The agent's tunnel: the address is a placeholder the agent ignores.
		host = "tcp://agent:2375"
		dial := t.Dial
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			dc.trace.set(err)
			return c, err
		}
	case ep == "agent":
		return nil, &configError{"agent-offline", "the agent is not connected to the course server",
			"Start the agent on your instance (the target page shows the command), then check again."}
	case strings.HasPrefix(ep, "unix://"):
		if !p.AllowPlainDocker || !p.AllowLoopback {
			return nil, &configError{"endpoint-not-allowed", "this server does not accept unix:// Docker endpoints",
				"Use tcp://HOST:2376 with TLS certificates, or connect through the agent."}
		}
		sock := strings.TrimPrefix(ep, "unix://")
		host = ep
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, "unix", sock)
			dc.trace.set(err)
			return c, err
		}
	case strings.HasPrefix(ep, "tcp://"):
		u, err := url.Parse(ep)
		if err != nil || u.Hostname() == "" {
			return nil, &configError{"bad-endpoint", fmt.Sprintf("cannot read the endpoint %q", ep),
				"Write the endpoint as tcp://HOST:2376, HOST being your instance's public IP or DNS name."}
		}
		dc.tls = len(t.CACert) > 0 || len(t.ClientCert) > 0 || len(t.ClientKey) > 0
		port := u.Port()
		if port == "" {
			port = "2375"
			if dc.tls {
				port = "2376"
			}
		}
		host = "tcp://" + net.JoinHostPort(u.Hostname(), port)
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := g.DialContext(ctx, network, addr)
			dc.trace.set(err)
			return c, err
		}
		tr.DialContext = dial
		if dc.tls {
			cfg, err := tlsConfig(t)
			if err != nil {
				return nil, err
			}
			tr.TLSClientConfig = cfg
			tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				raw, err := dial(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				c := cfg.Clone()
				c.ServerName, _, _ = net.SplitHostPort(addr)
				tc := tls.Client(raw, c)
				if err := tc.HandshakeContext(ctx); err != nil {
					raw.Close()
					dc.trace.set(err)
					return nil, err
				}
				return tc, nil
			}
		} else if !p.AllowPlainDocker {
			return nil, &configError{"tls-missing", "a tcp:// endpoint needs TLS certificates on this server",
				"Paste the CA certificate, the client certificate and the client key that your dockerd --tlsverify uses (port 2376)."}
		}
	default:
		return nil, &configError{"bad-endpoint", fmt.Sprintf("unsupported Docker endpoint %q", ep),
			"Write the endpoint as tcp://HOST:2376."}
	}
	var rt http.RoundTripper = readOnlyTransport{tr}
	if wrap != nil {
		rt = wrap(rt)
	}
	scheme := "http"
	if dc.tls {
		scheme = "https"
	}
	cli, err := client.NewClientWithOpts(
		client.WithHost(host),
		client.WithHTTPClient(&http.Client{Transport: rt, CheckRedirect: client.CheckRedirect}),
		client.WithScheme(scheme),
		client.WithAPIVersionNegotiation(),
	)
	if err != nil {
		return nil, &configError{"bad-endpoint", fmt.Sprintf("cannot use the endpoint %q: %v", ep, err), "Write the endpoint as tcp://HOST:2376."}
	}
	dc.cli = cli
	dc.close = tr.CloseIdleConnections
	return dc, nil
}

// tlsConfig builds the client side of dockerd --tlsverify from the PEM the
// student pasted.
func tlsConfig(t DockerTarget) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(t.CACert) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(t.CACert) {
			return nil, &configError{"tls-bad-ca", "the CA certificate is not a PEM certificate",
				"Paste the whole ca.pem, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----."}
		}
		cfg.RootCAs = pool
	}
	switch {
	case len(t.ClientCert) > 0 && len(t.ClientKey) > 0:
		pair, err := tls.X509KeyPair(t.ClientCert, t.ClientKey)
		if err != nil {
			return nil, &configError{"tls-bad-client-cert", "the client certificate and key do not make a pair: " + err.Error(),
				"Paste cert.pem as the certificate and key.pem as the key, both from the same client certificate."}
		}
		cfg.Certificates = []tls.Certificate{pair}
	case len(t.ClientCert) > 0 || len(t.ClientKey) > 0:
		return nil, &configError{"tls-bad-client-cert", "only one of the client certificate and key is set",
			"Paste both cert.pem and key.pem."}
	}
	return cfg, nil
}

// readAPI lists the Engine API paths the grader may call: reads of the
// engine, containers, images and networks. attach, exec, export and every
// write are absent, so even a bug cannot make the grader change a host.
var readAPI = regexp.MustCompile(`^(/v[0-9.]+)?/(_ping|version|info|containers/json|containers/[^/]+/(json|logs)|images/json|images/.+/json|networks|networks/[^/]+)$`)

// readOnlyTransport refuses any request that is not a read of readAPI.
type readOnlyTransport struct{ next http.RoundTripper }

// errWriteRefused is returned for a request the grader must never make.
var errWriteRefused = errors.New("grader: refusing a Docker API call that is not a read")

// RoundTrip passes reads of readAPI on and refuses everything else.
func (t readOnlyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if (req.Method != http.MethodGet && req.Method != http.MethodHead) || !readAPI.MatchString(req.URL.Path) {
		return nil, fmt.Errorf("%w: %s %s", errWriteRefused, req.Method, req.URL.Path)
	}
	return t.next.RoundTrip(req)
}
