package grader

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Resolver turns a host name into addresses; *net.Resolver satisfies it,
// and tests inject one that answers with forbidden addresses.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// Guard is the one dialer for every outbound connection the grader makes.
// The address check happens after DNS resolution and the resolved address is
// what gets dialled, so neither a redirect nor DNS rebinding can lead the
// server to its own loopback, the cloud metadata service or a private
// network. The zero value refuses all of them.
type Guard struct {
	// AllowPrivate lets connections reach private ranges (10/8, 172.16/12,
	// 192.168/16, 100.64/10, fc00::/7): an admin setting or a cohort switch.
	AllowPrivate bool
	// AllowLoopback lets connections reach 127/8 and ::1: only an admin
	// setting for local labs and tests, never a cohort switch.
	AllowLoopback bool
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver Resolver
	// DialTimeout bounds one connection attempt; zero means 10 s.
	DialTimeout time.Duration
}

// BlockedError says the guard refused an address and why.
type BlockedError struct {
	Host   string     // the name asked for
	IP     netip.Addr // the address it resolved to
	Reason string     // e.g. "the cloud metadata address"
}

// Error reads "refused: 169.254.169.254 is the cloud metadata address".
func (e *BlockedError) Error() string {
	if e.Host != "" && e.Host != e.IP.String() {
		return fmt.Sprintf("refused: %s resolves to %s, %s", e.Host, e.IP, e.Reason)
	}
	return fmt.Sprintf("refused: %s is %s", e.IP, e.Reason)
}

var (
	cgnat     = netip.MustParsePrefix("100.64.0.0/10")
	thisNet   = netip.MustParsePrefix("0.0.0.0/8")
	metadata4 = netip.MustParseAddr("169.254.169.254")
	metadata6 = netip.MustParseAddr("fd00:ec2::254") // AWS's IPv6 metadata endpoint
	broadcast = netip.MustParseAddr("255.255.255.255")
	nat64     = netip.MustParsePrefix("64:ff9b::/96") // embeds an IPv4 address
)

// Refusal returns why the guard refuses ip, or "" when it may be dialled.
func (g *Guard) Refusal(ip netip.Addr) string {
	ip = ip.WithZone("")
	// An IPv4 address dressed as IPv6 (::ffff:127.0.0.1, 64:ff9b::a9fe:a9fe)
	// reaches the IPv4 host, so judge the IPv4 address inside.
	if ip.Is4In6() {
		ip = ip.Unmap()
	} else if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	switch {
	case !ip.IsValid():
		return "not a valid address"
	case ip == metadata4 || ip == metadata6:
		return "the cloud metadata address"
	case ip.IsUnspecified() || thisNet.Contains(ip):
		return "an unspecified address"
	case ip.IsLoopback():
		if g.AllowLoopback {
			return ""
		}
		return "a loopback address (this server itself)"
	case ip.IsLinkLocalUnicast():
		return "a link-local address"
	case ip.IsMulticast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip == broadcast:
		return "a multicast or broadcast address"
	case ip.IsPrivate() || cgnat.Contains(ip):
		if g.AllowPrivate {
			return ""
		}
		return "a private network address"
	}
	return ""
}

func (g *Guard) resolver() Resolver {
	if g.Resolver != nil {
		return g.Resolver
	}
	return net.DefaultResolver
}

// resolve returns the addresses of host the guard lets through, or the
// refusal of the first one when none is allowed.
func (g *Guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		ias, err := g.resolver().LookupIPAddr(ctx, host)
		if err != nil {
			return nil, err
		}
		for _, ia := range ias {
			if ip, ok := netip.AddrFromSlice(ia.IP); ok {
				addrs = append(addrs, ip.Unmap())
			}
		}
		if len(addrs) == 0 {
			return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
	}
	var allowed []netip.Addr
	var first *BlockedError
	for _, ip := range addrs {
		if r := g.Refusal(ip); r != "" {
			if first == nil {
				first = &BlockedError{Host: host, IP: ip, Reason: r}
			}
			continue
		}
		allowed = append(allowed, ip)
	}
	if len(allowed) == 0 {
		return nil, first
	}
	return allowed, nil
}

// DialContext resolves addr's host, refuses forbidden addresses and dials
// the first allowed address that answers. Only TCP is supported.
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("guard: network %q is not allowed", network)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ips, err := g.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	timeout := g.DialTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	d := net.Dialer{Timeout: timeout, Control: g.control}
	var lastErr error
	for _, ip := range ips {
		c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(ip.String(), port))
		if err == nil {
			return c, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

// control re-checks the address the kernel is about to connect to: a
// second line of defence should anything above ever pass a name through.
func (g *Guard) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("guard: unexpected address %q: %w", address, err)
	}
	if r := g.Refusal(ap.Addr()); r != "" {
		return &BlockedError{IP: ap.Addr().Unmap(), Reason: r}
	}
	return nil
}

// maxRedirects bounds how many redirects the app check follows.
const maxRedirects = 5

// HTTPClient returns a client whose every connection, redirects included,
// goes through the guard. It ignores proxy settings: a proxy would dial on
// the guard's behalf and defeat it.
func (g *Guard) HTTPClient(timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           g.DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          1,
		DisableKeepAlives:     true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to %s refused", req.URL.Scheme)
			}
			return nil
		},
	}
}

// asBlocked returns the guard's refusal inside err, if any.
func asBlocked(err error) (*BlockedError, bool) {
	var b *BlockedError
	ok := errors.As(err, &b)
	return b, ok
}
