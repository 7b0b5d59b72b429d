package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tlsBundle makes a CA and a client certificate signed by it, as the TLS
// script's openssl commands do, in PEM.
func tlsBundle(t *testing.T) (ca, cert, key string) {
	t.Helper()
	pemOf := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "workshop test CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	clientKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	clientTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "client"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	clientDER, err := x509.CreateCertificate(rand.Reader, clientTmpl, caTmpl, &clientKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(clientKey)
	return pemOf("CERTIFICATE", caDER), pemOf("CERTIFICATE", clientDER), pemOf("PRIVATE KEY", keyDER)
}

// uploadBundle posts the bundle as the script's curl -F does: endpoint as
// a field, the PEM files as files. No cookie, no CSRF token.
func uploadBundle(t *testing.T, url, endpoint, ca, cert, key string) (int, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("endpoint", endpoint)
	for name, v := range map[string]string{"ca": ca, "cert": cert, "key": key} {
		if v == "" {
			continue
		}
		fw, _ := mw.CreateFormFile(name, name+".pem")
		_, _ = fw.Write([]byte(v))
	}
	mw.Close()
	resp, err := http.Post(url, mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, readBody(resp)
}

var uploadURLInScript = regexp.MustCompile(`UPLOAD_URL='([^']*)'`)

func TestDockerTLSScriptUploadsOnceWithinItsLifetime(t *testing.T) {
	h := newHarness(t)
	clock := time.Now()
	h.Srv.now = func() time.Time { return clock }
	w := h.world()
	ctx := context.Background()

	// Anonymous: the script prints the bundle; it names the server.
	script := readBody(h.get(h.client(), "/connect/docker-tls.sh"))
	if !strings.Contains(script, "SERVER_URL='"+h.TS.URL+"'") || !strings.Contains(script, "UPLOAD_URL=''") {
		t.Fatalf("anonymous script: server URL or empty upload URL missing:\n%.600s", script)
	}

	// Signed in: a link of its own.
	c := h.sessionClient(w.StudentA)
	script = readBody(h.get(c, "/connect/docker-tls.sh"))
	m := uploadURLInScript.FindStringSubmatch(script)
	if m == nil || !strings.HasPrefix(m[1], h.TS.URL+"/connect/docker-tls/") {
		t.Fatalf("signed-in script has no upload URL: %v", m)
	}
	upload := m[1]
	ca, cert, key := tlsBundle(t)

	// A bad bundle is refused with what to fix, and the link still works.
	code, msg := uploadBundle(t, upload, "tcp://203.0.113.10:2376", ca, cert, "")
	if code != http.StatusUnprocessableEntity || !strings.Contains(msg, "key:") {
		t.Errorf("bundle without key: %d %q", code, msg)
	}
	code, msg = uploadBundle(t, upload, "http://203.0.113.10", ca, "not a certificate", key)
	if code != http.StatusUnprocessableEntity || !strings.Contains(msg, "endpoint:") || !strings.Contains(msg, "cert:") {
		t.Errorf("bad endpoint and certificate: %d %q", code, msg)
	}

	code, msg = uploadBundle(t, upload, "tcp://203.0.113.10:2376", ca, cert, key)
	if code != http.StatusOK || !strings.Contains(msg, "Stored") {
		t.Fatalf("upload: %d %q", code, msg)
	}
	tg, err := h.DB.Target(ctx, w.StudentA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tg.DockerMode != "tls" || tg.DockerEndpoint != "tcp://203.0.113.10:2376" || tg.DockerKeyPEM != strings.TrimSpace(key) ||
		tg.DockerCAPEM != strings.TrimSpace(ca) || tg.DockerKeyHint == "" {
		t.Errorf("stored target: mode %q endpoint %q key stored %v hint %q", tg.DockerMode, tg.DockerEndpoint, tg.DockerKeyPEM != "", tg.DockerKeyHint)
	}
	var sealed []byte
	if err := h.DB.Pool.QueryRow(ctx, `SELECT docker_key_sealed FROM targets WHERE user_id = $1`, w.StudentA.ID).Scan(&sealed); err != nil ||
		bytes.Contains(sealed, []byte("PRIVATE KEY")) {
		t.Errorf("the key is not sealed at rest (%v)", err)
	}

	// Single use.
	if code, msg := uploadBundle(t, upload, "tcp://203.0.113.10:2376", ca, cert, key); code != http.StatusGone || !strings.Contains(msg, "already used") {
		t.Errorf("second upload with one link: %d %q", code, msg)
	}
	// Expires after 15 minutes.
	m = uploadURLInScript.FindStringSubmatch(readBody(h.get(c, "/connect/docker-tls.sh")))
	clock = clock.Add(16 * time.Minute)
	if code, msg := uploadBundle(t, m[1], "tcp://203.0.113.11:2376", ca, cert, key); code != http.StatusGone || !strings.Contains(msg, "expired") {
		t.Errorf("upload after 16 minutes: %d %q", code, msg)
	}
	if code, _ := uploadBundle(t, h.TS.URL+"/connect/docker-tls/not-a-link", "tcp://203.0.113.11:2376", ca, cert, key); code != http.StatusNotFound {
		t.Errorf("unknown link: %d", code)
	}
	if tg, _ := h.DB.Target(ctx, w.StudentA.ID); tg.DockerEndpoint != "tcp://203.0.113.10:2376" {
		t.Errorf("a refused upload changed the target: %q", tg.DockerEndpoint)
	}
}

func TestAgentScriptsDownloadsAndRoleTemplate(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"workshop-linux-amd64": "amd64 binary", "workshop-linux-arm64": "arm64 binary",
		"SHA256SUMS": strings.Repeat("a", 64) + "  workshop-linux-amd64\n" + strings.Repeat("b", 64) + "  workshop-linux-arm64\n"}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "secret.key"), []byte("no"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(o *Options) { o.Agent.DownloadsDir = dir; o.Agent.Image = "registry.example.org/workshop:1" })
	c := h.client()

	install := readBody(h.get(c, "/agent/install.sh"))
	if !strings.Contains(install, "SERVER_URL='"+h.TS.URL+"'") || !strings.Contains(install, `--server "`+h.TS.URL+`"`) {
		t.Errorf("install.sh does not carry this server's address:\n%.500s", install)
	}
	for name, want := range files {
		resp := h.get(c, "/downloads/"+name)
		if got := readBody(resp); resp.StatusCode != 200 || got != want {
			t.Errorf("/downloads/%s: %d %q", name, resp.StatusCode, got)
		}
	}
	for _, p := range []string{"/downloads/secret.key", "/downloads/..%2fsecret.key", "/downloads/workshop-linux-386"} {
		resp := h.get(c, p)
		readBody(resp)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}

	resp := h.get(c, "/connect/readonly-role.yaml")
	role := readBody(resp)
	if resp.StatusCode != 200 || !strings.Contains(role, "ec2:Describe*") || !strings.Contains(role, "sts:ExternalId") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "readonly-role.yaml") {
		t.Errorf("role template: %d %q\n%.300s", resp.StatusCode, resp.Header.Get("Content-Disposition"), role)
	}

	// The new token's page shows the one-liner and the container way.
	w := h.world()
	sc := h.sessionClient(w.StudentA)
	h.makeAgentToken(sc)
	body := readBody(h.get(sc, "/target"))
	if !strings.Contains(body, "ending in") || strings.Contains(body, "shown only now") {
		t.Error("after the token page, the target page shows the token's hint only")
	}
	resp = h.postForm(sc, "/target/agent-token", nil)
	body = readBody(resp)
	if !strings.Contains(body, "registry.example.org/workshop:1") {
		t.Error("the docker run line is missing though an image is configured")
	}
}
