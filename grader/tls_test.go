package grader

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// pki is a CA with its certificate and key in PEM, as a student makes them
// for dockerd --tlsverify.
type pki struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
}

func newCA(t *testing.T, name string) *pki {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &pki{cert: cert, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue makes a leaf certificate (server or client) and returns cert and key PEM.
func (ca *pki) issue(t *testing.T, name string, usage x509.ExtKeyUsage, ips ...net.IP) (certPEM, keyPEM []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

// engineSocket is the local engine's unix socket, which the proxies forward to.
func engineSocket(t *testing.T) string {
	engine(t) // skips without an engine
	h := os.Getenv("DOCKER_HOST")
	if h == "" {
		h = client.DefaultDockerHost
	}
	if !strings.HasPrefix(h, "unix://") {
		t.Skipf("DOCKER_HOST %s is not a unix socket", h)
	}
	return strings.TrimPrefix(h, "unix://")
}

// proxy forwards connections on a loopback port to the engine's socket,
// behind TLS requiring a client certificate when cfg is set: the same
// contract as dockerd --tlsverify on port 2376.
func proxy(t *testing.T, sock string, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				if cfg != nil {
					tc := tls.Server(c, cfg)
					if err := tc.Handshake(); err != nil {
						// As dockerd's HTTP server answers a plain request.
						if re, ok := err.(tls.RecordHeaderError); ok && re.Conn != nil && string(re.RecordHeader[:]) == "GET /" {
							io.WriteString(re.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
						}
						return
					}
					c = tc
				}
				up, err := net.Dial("unix", sock)
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, c)
				io.Copy(c, up)
			}(c)
		}
	}()
	return ln.Addr().String()
}

func TestDockerTLS(t *testing.T) {
	sock := engineSocket(t)
	ca, otherCA := newCA(t, "workshop test CA"), newCA(t, "someone else's CA")
	srvCert, srvKey := ca.issue(t, "docker host", x509.ExtKeyUsageServerAuth, net.ParseIP("127.0.0.1"))
	cliCert, cliKey := ca.issue(t, "grader", x509.ExtKeyUsageClientAuth)
	strangerCert, strangerKey := otherCA.issue(t, "grader", x509.ExtKeyUsageClientAuth)
	pair, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	tlsAddr := proxy(t, sock, &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool})
	plainAddr := proxy(t, sock, nil)
	_, tlsPort, _ := net.SplitHostPort(tlsAddr)

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := ln.Addr().String()
	ln.Close()
	tooOld := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.30")
		if strings.HasSuffix(r.URL.Path, "/version") {
			fmt.Fprint(w, `{"Version":"17.06.0-ce","ApiVersion":"1.30","Os":"linux","Arch":"amd64"}`)
		}
	}))
	defer tooOld.Close()
	notDocker := httptest.NewServer(http.NotFoundHandler())
	defer notDocker.Close()

	all := Policy{AllowPlainDocker: true, AllowLoopback: true}
	tlsOnly := Policy{AllowLoopback: true}
	res := fakeResolver{"localhost.example": {"127.0.0.1"}}
	dt := func(ep string, ca, cert, key []byte) DockerTarget {
		return DockerTarget{Endpoint: ep, CACert: ca, ClientCert: cert, ClientKey: key}
	}
	tests := []struct {
		name    string
		policy  Policy
		target  DockerTarget
		timeout time.Duration
		status  Status
		kind    string
		hintHas string
	}{
		{"right certificates", tlsOnly, dt("tcp://"+tlsAddr, ca.certPEM, cliCert, cliKey), 0, StatusPass, "", ""},
		{"no client certificate", tlsOnly, dt("tcp://"+tlsAddr, ca.certPEM, nil, nil), 0, StatusFail, KindTLSClientMissing, "cert.pem"},
		{"wrong CA", tlsOnly, dt("tcp://"+tlsAddr, otherCA.certPEM, cliCert, cliKey), 0, StatusFail, KindTLSUnknownCA, "ca.pem"},
		{"client certificate from another CA", tlsOnly, dt("tcp://"+tlsAddr, ca.certPEM, strangerCert, strangerKey), 0, StatusFail, KindTLSClientRejected, "clientAuth"},
		{"name not in the certificate", tlsOnly, dt("tcp://localhost.example:"+tlsPort, ca.certPEM, cliCert, cliKey), 0, StatusFail, KindTLSHostname, "subjectAltName"},
		{"plain HTTP to the TLS port", all, dt("tcp://"+tlsAddr, nil, nil, nil), 0, StatusFail, KindTLSRequired, "CA certificate"},
		{"TLS to a plain port", tlsOnly, dt("tcp://"+plainAddr, ca.certPEM, cliCert, cliKey), 0, StatusFail, KindNotTLS, "--tlsverify"},
		{"plain endpoint not allowed", tlsOnly, dt("tcp://"+plainAddr, nil, nil, nil), 0, StatusFail, "tls-missing", "CA certificate"},
		{"unix socket not allowed", tlsOnly, dt("unix://"+sock, nil, nil, nil), 0, StatusFail, "endpoint-not-allowed", "tcp://HOST:2376"},
		{"key does not match", tlsOnly, dt("tcp://"+tlsAddr, ca.certPEM, cliCert, strangerKey), 0, StatusFail, "tls-bad-client-cert", "key.pem"},
		{"refused", all, dt("tcp://"+closedAddr, nil, nil, nil), 0, StatusFail, KindDockerRefused, "-H tcp://0.0.0.0:2376"},
		{"timeout", all, dt("tcp://"+blackhole(t), nil, nil, nil), 1500 * time.Millisecond, StatusFail, KindDockerTimeout, "security group"},
		{"loopback refused by the guard", Policy{AllowPlainDocker: true}, dt("tcp://"+plainAddr, nil, nil, nil), 0, StatusFail, KindBlocked, "public IP"},
		{"metadata address", all, dt("tcp://169.254.169.254:2376", ca.certPEM, cliCert, cliKey), 0, StatusFail, KindBlocked, "public IP"},
		{"name does not resolve", all, dt("tcp://nowhere.example:2376", nil, nil, nil), 0, StatusFail, KindDockerDNS, "spelling"},
		{"API too old", all, dt("tcp://"+strings.TrimPrefix(tooOld.URL, "http://"), nil, nil, nil), 0, StatusFail, KindAPITooOld, "Upgrade Docker"},
		{"not Docker", all, dt("tcp://"+strings.TrimPrefix(notDocker.URL, "http://"), nil, nil, nil), 0, StatusFail, KindNotDocker, "2376"},
		{"agent not connected", tlsOnly, DockerTarget{Endpoint: "agent"}, 0, StatusFail, "agent-offline", "Start the agent"},
		{"agent tunnel", tlsOnly, DockerTarget{Endpoint: "agent", Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}}, 0, StatusPass, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New(tt.policy, Options{Resolver: res, CheckTimeout: tt.timeout})
			r := g.RunStep(context.Background(), "", Target{Docker: tt.target}, []string{"docker-reachable"})[0]
			expect(t, r, tt.status, tt.kind, tt.hintHas)
		})
	}

	t.Run("test connection", func(t *testing.T) {
		g := New(tlsOnly, Options{})
		rep := g.TestConnection(context.Background(), Target{Docker: dt("tcp://"+tlsAddr, ca.certPEM, cliCert, cliKey)})
		if !rep.Docker.Reached || !rep.Docker.TLS || rep.Docker.APIVersion == "" {
			t.Errorf("report = %+v", rep.Docker)
		}
		rep = g.TestConnection(context.Background(), Target{Docker: dt("tcp://"+tlsAddr, otherCA.certPEM, cliCert, cliKey)})
		if rep.Docker.Reached || rep.Docker.Kind != KindTLSUnknownCA {
			t.Errorf("report = %+v", rep.Docker)
		}
	})
}
