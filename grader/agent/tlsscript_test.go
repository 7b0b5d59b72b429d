package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coursekit/workshop/internal/testenv"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
)

func TestDockerTLSScriptShellcheck(t *testing.T) {
	_, err := exec.LookPath("shellcheck")
	testenv.Require(t, "shellcheck", err)
	for _, script := range [][]byte{
		dockerTLSScript,
		DockerTLSScript("https://course.example.com", "https://course.example.com/connect/upload?t=it's"),
	} {
		cmd := exec.Command("shellcheck", "-s", "sh", "-")
		cmd.Stdin = bytes.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("shellcheck: %v\n%s", err, out)
		}
	}
}

// runTLSScript runs the rendered script with sh and returns its output.
func runTLSScript(t *testing.T, script []byte, args ...string) (string, error) {
	t.Helper()
	_, err := exec.LookPath("openssl")
	testenv.Require(t, "openssl", err)
	path := filepath.Join(t.TempDir(), "docker-tls.sh")
	if err := os.WriteFile(path, script, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sh", append([]string{path}, args...)...).CombinedOutput()
	return string(out), err
}

func TestDockerTLSScriptCertificatesReachEngine(t *testing.T) {
	requireDocker(t)
	root := t.TempDir()
	script := DockerTLSScript("http://127.0.0.1:1", "")
	out, err := runTLSScript(t, script, "--root", root, "--ip", "127.0.0.1", "--dns", "localhost", "--no-restart")
	if err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	tlsDir := filepath.Join(root, "etc/docker/tls")
	for _, key := range []string{"ca-key.pem", "server-key.pem", "key.pem"} {
		if fi, err := os.Stat(filepath.Join(tlsDir, key)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", key, err, fi.Mode())
		}
	}
	dropin, _ := os.ReadFile(filepath.Join(root, "etc/systemd/system/docker.service.d/workshop-tls.conf"))
	for _, want := range []string{"ExecStart=\n", "-H fd://", "-H tcp://0.0.0.0:2376", "--tlsverify", "--tlscacert=/etc/docker/tls/ca.pem"} {
		if !strings.Contains(string(dropin), want) {
			t.Errorf("drop-in lacks %q:\n%s", want, dropin)
		}
	}
	if !strings.Contains(out, "-----BEGIN PRIVATE KEY-----") || !strings.Contains(out, "Source: 127.0.0.1/32") {
		t.Errorf("no bundle to paste or no security group advice:\n%s", out)
	}

	addr := tlsProxyToEngine(t, tlsDir)
	_, port, _ := net.SplitHostPort(addr)
	for _, host := range []string{"127.0.0.1", "localhost"} {
		cli, err := client.NewClientWithOpts(
			client.WithHost("tcp://"+net.JoinHostPort(host, port)),
			client.WithTLSClientConfig(filepath.Join(tlsDir, "ca.pem"), filepath.Join(tlsDir, "cert.pem"), filepath.Join(tlsDir, "key.pem")),
			client.WithAPIVersionNegotiation(),
		)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if _, err := cli.ContainerList(ctx, container.ListOptions{}); err != nil {
			t.Errorf("docker client over TLS to %s: %v", host, err)
		}
		cancel()
		cli.Close()
	}

	// Without the client certificate the engine stays out of reach.
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(filepath.Join(tlsDir, "ca.pem"))
	pool.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if resp, err := hc.Get("https://" + addr + "/_ping"); err == nil {
		resp.Body.Close()
		t.Error("reached the engine without a client certificate")
	}

	// Idempotent: a second run keeps everything.
	before := snapshot(t, root)
	out, err = runTLSScript(t, script, "--root", root, "--ip", "127.0.0.1", "--dns", "localhost")
	if err != nil || !strings.Contains(out, "Nothing changed") {
		t.Errorf("second run: %v\n%s", err, out)
	}
	if after := snapshot(t, root); !equalSnapshots(before, after) {
		t.Error("second run changed files")
	}
	// A new address renews the server certificate only.
	out, err = runTLSScript(t, script, "--root", root, "--ip", "127.0.0.2")
	if err != nil || !strings.Contains(out, "kept: the CA") || !strings.Contains(out, "wrote "+filepath.Join(tlsDir, "server-cert.pem")) {
		t.Errorf("run with a new address: %v\n%s", err, out)
	}
}

// tlsProxyToEngine is a TLS endpoint like dockerd --tlsverify: it requires
// a client certificate from the script's CA and forwards to the engine.
func tlsProxyToEngine(t *testing.T, tlsDir string) string {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(filepath.Join(tlsDir, "server-cert.pem"), filepath.Join(tlsDir, "server-key.pem"))
	if err != nil {
		t.Fatalf("server certificate: %v", err)
	}
	caPEM, _ := os.ReadFile(filepath.Join(tlsDir, "ca.pem"))
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem holds no certificate")
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := c.(*tls.Conn).Handshake(); err != nil {
					c.Close()
					return
				}
				engine, err := net.Dial("unix", DefaultDockerSocket)
				if err != nil {
					c.Close()
					return
				}
				splice(c, engine)
			}()
		}
	}()
	return ln.Addr().String()
}

type fileState struct {
	mode fs.FileMode
	data string
}

// snapshot records every path under root with its mode and content.
func snapshot(t *testing.T, root string) map[string]fileState {
	t.Helper()
	m := map[string]fileState{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st := fileState{mode: fi.Mode()}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			st.data = string(b)
		}
		m[strings.TrimPrefix(p, root)] = st
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func equalSnapshots(a, b map[string]fileState) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestDockerTLSScriptUndoRestoresFiles(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"etc/systemd/system/docker.service.d/override.conf":     "[Service]\nLimitNOFILE=4096\n",
		"etc/systemd/system/docker.service.d/workshop-tls.conf": "# an older version\n[Service]\n",
		"etc/docker/daemon.json":                                `{"log-driver": "json-file"}` + "\n",
	}
	for p, data := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, root)
	script := DockerTLSScript("https://course.example.com", "")

	out, err := runTLSScript(t, script, "--root", root, "--ip", "203.0.113.7", "--dns", "ec2-203-0-113-7.compute.amazonaws.com")
	if err != nil {
		t.Fatalf("setup: %v\n%s", err, out)
	}
	if !strings.Contains(out, "backed up "+filepath.Join(root, "etc/systemd/system/docker.service.d/workshop-tls.conf")) {
		t.Errorf("the replaced drop-in was not backed up:\n%s", out)
	}
	if equalSnapshots(before, snapshot(t, root)) {
		t.Fatal("setup changed nothing")
	}
	out, err = runTLSScript(t, script, "--root", root, "--undo")
	if err != nil {
		t.Fatalf("undo: %v\n%s", err, out)
	}
	if after := snapshot(t, root); !equalSnapshots(before, after) {
		t.Errorf("undo left a different tree:\nbefore %v\nafter  %v\n%s", before, after, out)
	}
	if out, err := runTLSScript(t, script, "--root", root, "--undo"); err != nil || !strings.Contains(out, "Nothing to undo") {
		t.Errorf("second undo: %v\n%s", err, out)
	}

	// A daemon.json that sets hosts would stop dockerd: refuse up front.
	os.WriteFile(filepath.Join(root, "etc/docker/daemon.json"), []byte(`{"hosts": ["unix:///var/run/docker.sock"]}`), 0o644)
	before = snapshot(t, root)
	if out, err := runTLSScript(t, script, "--root", root, "--ip", "203.0.113.7"); err == nil || !strings.Contains(out, `sets "hosts"`) {
		t.Errorf("daemon.json with hosts: %v\n%s", err, out)
	}
	if !equalSnapshots(before, snapshot(t, root)) {
		t.Error("the refused run changed files")
	}
	if out, err := runTLSScript(t, script, "--root", root, "--ip", "1.2.3.4;reboot"); err == nil {
		t.Errorf("a bad --ip was accepted:\n%s", out)
	}
}

func TestDockerTLSScriptUploadsBundle(t *testing.T) {
	_, err := exec.LookPath("curl")
	testenv.Require(t, "curl", err)
	got := make(chan map[string]string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Query().Get("token") != "short-lived" {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fields := map[string]string{"endpoint": r.FormValue("endpoint")}
		for _, f := range []string{"ca", "cert", "key"} {
			file, _, err := r.FormFile(f)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			b, _ := io.ReadAll(file)
			fields[f] = string(b)
		}
		got <- fields
	}))
	defer srv.Close()
	root := t.TempDir()
	out, err := runTLSScript(t, DockerTLSScript(srv.URL, srv.URL+"/upload?token=short-lived"), "--root", root, "--ip", "198.51.100.4")
	if err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	select {
	case f := <-got:
		key, _ := os.ReadFile(filepath.Join(root, "etc/docker/tls/key.pem"))
		if f["endpoint"] != "tcp://198.51.100.4:2376" || f["key"] != string(key) || !strings.Contains(f["ca"], "BEGIN CERTIFICATE") {
			t.Errorf("uploaded %v", f)
		}
	default:
		t.Fatalf("nothing uploaded:\n%s", out)
	}
	if strings.Contains(out, "BEGIN PRIVATE KEY") {
		t.Error("the key was printed although the upload worked")
	}
}
