package grader

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// fakeResolver answers names from a table, as a hostile DNS server could.
type fakeResolver map[string][]string

func (f fakeResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	ips, ok := f[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []net.IPAddr
	for _, s := range ips {
		out = append(out, net.IPAddr{IP: net.ParseIP(s)})
	}
	return out, nil
}

func TestGuardRefusal(t *testing.T) {
	tests := []struct {
		ip                      string
		private, loopback, want string // want: "" allowed, else a word of the reason
	}{
		{ip: "8.8.8.8", want: ""},
		{ip: "2606:4700::1111", want: ""},
		{ip: "127.0.0.1", want: "loopback"},
		{ip: "127.1.2.3", want: "loopback"},
		{ip: "::1", want: "loopback"},
		{ip: "::ffff:127.0.0.1", want: "loopback"},
		{ip: "64:ff9b::7f00:1", want: "loopback"},
		{ip: "169.254.169.254", want: "metadata"},
		{ip: "::ffff:169.254.169.254", want: "metadata"},
		{ip: "fd00:ec2::254", want: "metadata"},
		{ip: "169.254.10.1", want: "link-local"},
		{ip: "fe80::1", want: "link-local"},
		{ip: "0.0.0.0", want: "unspecified"},
		{ip: "::", want: "unspecified"},
		{ip: "224.0.0.1", want: "multicast"},
		{ip: "ff02::1", want: "multicast"},
		{ip: "10.1.2.3", want: "private"},
		{ip: "172.16.0.1", want: "private"},
		{ip: "172.31.255.1", want: "private"},
		{ip: "192.168.1.10", want: "private"},
		{ip: "100.64.0.1", want: "private"},
		{ip: "fc00::1", want: "private"},
		{ip: "fd12:3456::1", want: "private"},
		{ip: "::ffff:10.0.0.1", want: "private"},
		{ip: "172.32.0.1", want: ""},
	}
	strict := &Guard{}
	for _, tt := range tests {
		got := strict.Refusal(netip.MustParseAddr(tt.ip))
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("Refusal(%s) = %q, want one mentioning %q", tt.ip, got, tt.want)
		}
	}
	private := &Guard{AllowPrivate: true}
	for ip, want := range map[string]bool{"10.1.2.3": true, "192.168.0.1": true, "fd12::1": true, "127.0.0.1": false, "169.254.169.254": false, "fe80::1": false} {
		if got := private.Refusal(netip.MustParseAddr(ip)) == ""; got != want {
			t.Errorf("AllowPrivate: allowed(%s) = %v, want %v", ip, got, want)
		}
	}
	loop := &Guard{AllowLoopback: true}
	for ip, want := range map[string]bool{"127.0.0.1": true, "::1": true, "10.0.0.1": false, "169.254.169.254": false} {
		if got := loop.Refusal(netip.MustParseAddr(ip)) == ""; got != want {
			t.Errorf("AllowLoopback: allowed(%s) = %v, want %v", ip, got, want)
		}
	}
}

func TestGuardDialRefusesNames(t *testing.T) {
	res := fakeResolver{
		"loop.example":     {"127.0.0.1"},
		"loop6.example":    {"::1"},
		"mapped.example":   {"::ffff:127.0.0.1"},
		"metadata.example": {"169.254.169.254"},
		"private.example":  {"10.0.0.7", "192.168.3.4"},
		"cgnat.example":    {"100.100.1.1"},
	}
	g := &Guard{Resolver: res}
	ctx := context.Background()
	for name := range res {
		_, err := g.DialContext(ctx, "tcp", net.JoinHostPort(name, "80"))
		var b *BlockedError
		if !errors.As(err, &b) {
			t.Errorf("dial %s: err = %v, want *BlockedError", name, err)
			continue
		}
		if b.Host != name || !strings.HasPrefix(b.Error(), "refused: ") {
			t.Errorf("dial %s: %v", name, b)
		}
	}
	for _, addr := range []string{"127.0.0.1:80", "[::1]:80", "169.254.169.254:80", "[::ffff:169.254.169.254]:80", "10.0.0.1:2376"} {
		if _, err := g.DialContext(ctx, "tcp", addr); err == nil || !errors.As(err, new(*BlockedError)) {
			t.Errorf("dial %s: err = %v, want *BlockedError", addr, err)
		}
	}
	_, err := g.DialContext(ctx, "tcp", "169.254.169.254:80")
	if want := "refused: 169.254.169.254 is the cloud metadata address"; err == nil || err.Error() != want {
		t.Errorf("metadata error = %v, want %q", err, want)
	}
	if _, err := g.DialContext(ctx, "unix", "/var/run/docker.sock"); err == nil {
		t.Error("unix dial through the guard succeeded")
	}
	// The second line of defence refuses on its own too.
	if err := g.control("tcp4", "127.0.0.1:80", nil); !errors.As(err, new(*BlockedError)) {
		t.Errorf("control(127.0.0.1) = %v", err)
	}
	var dnsErr *net.DNSError
	if _, err := g.DialContext(ctx, "tcp", "nowhere.example:80"); !errors.As(err, &dnsErr) {
		t.Errorf("unknown name: err = %v, want *net.DNSError", err)
	}
}

func TestGuardRedirectToForbiddenAddress(t *testing.T) {
	var hits int
	forbidden := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer forbidden.Close()
	_, port, _ := net.SplitHostPort(forbidden.Listener.Addr().String())
	allowed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	}))
	defer allowed.Close()
	_, aport, _ := net.SplitHostPort(allowed.Listener.Addr().String())

	// The allowed server is "public" (a name the test resolver maps to a
	// documentation address dialled through loopback is not possible), so
	// the test allows loopback only for the first hop's name and checks
	// that every redirect target is judged again.
	g := &Guard{AllowLoopback: true, Resolver: fakeResolver{
		"app.example":      {"127.0.0.1"},
		"metadata.example": {"169.254.169.254"},
		"intranet.example": {"10.20.30.40"},
	}}
	for _, to := range []string{
		"http://metadata.example:" + port + "/latest/meta-data/",
		"http://169.254.169.254/latest/meta-data/",
		"http://intranet.example:" + port + "/",
		"http://[fe80::1]:" + port + "/",
	} {
		resp, err := g.HTTPClient(5e9).Get("http://app.example:" + aport + "/?to=" + to)
		if err == nil {
			resp.Body.Close()
			t.Errorf("redirect to %s followed (status %s)", to, resp.Status)
			continue
		}
		if !errors.As(err, new(*BlockedError)) {
			t.Errorf("redirect to %s: err = %v, want *BlockedError", to, err)
		}
	}
	// Without AllowLoopback the same client cannot reach this server at all.
	strict := &Guard{}
	if _, err := strict.HTTPClient(5e9).Get(forbidden.URL); !errors.As(err, new(*BlockedError)) {
		t.Errorf("strict guard reached %s: %v", forbidden.URL, err)
	}
	// Redirect loops stop.
	loop := "http://app.example:" + aport + "/?to=" + "/?to=/"
	if _, err := g.HTTPClient(5e9).Get(loop); err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Errorf("redirect loop: err = %v", err)
	}
	if hits != 0 {
		t.Errorf("the forbidden server was reached %d times", hits)
	}
}
