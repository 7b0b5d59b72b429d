package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/coursekit/workshop/internal/testenv"
)

func TestInstallScriptShellcheck(t *testing.T) {
	_, err := exec.LookPath("shellcheck")
	testenv.Require(t, "shellcheck", err)
	cmd := exec.Command("shellcheck", "-s", "sh", "-")
	cmd.Stdin = strings.NewReader(InstallScript("https://course.example.com/"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

func TestInstallScriptVerifiesChecksum(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skip("the script installs amd64 or arm64 builds only")
	}
	binary := []byte("#!/bin/sh\necho fake agent\n")
	sum := sha256.Sum256(binary)
	sums := hex.EncodeToString(sum[:]) + "  workshop-linux-" + runtime.GOARCH + "\n"
	mux := http.NewServeMux()
	mux.HandleFunc("/downloads/workshop-linux-"+runtime.GOARCH, func(w http.ResponseWriter, r *http.Request) { w.Write(binary) })
	mux.HandleFunc("/downloads/SHA256SUMS", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(sums)) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	run := func(root string) (string, error) {
		path := filepath.Join(t.TempDir(), "install.sh")
		os.WriteFile(path, []byte(InstallScript(srv.URL)), 0o644)
		out, err := exec.Command("sh", path, "--token", "tok_123-abc", "--root", root).CombinedOutput()
		return string(out), err
	}
	root := t.TempDir()
	out, err := run(root)
	if err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "usr/local/bin/workshop")); string(got) != string(binary) {
		t.Errorf("installed binary %q", got)
	}
	env := filepath.Join(root, "etc/workshop-agent.env")
	if fi, err := os.Stat(env); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("env file: %v %v", err, fi.Mode())
	}
	if b, _ := os.ReadFile(env); string(b) != "WORKSHOP_AGENT_TOKEN=tok_123-abc\n" {
		t.Errorf("env file holds %q", b)
	}
	unit, _ := os.ReadFile(filepath.Join(root, "etc/systemd/system/workshop-agent.service"))
	if string(unit) != SystemdUnit(srv.URL) || strings.Contains(string(unit), "tok_") {
		t.Errorf("unit:\n%s", unit)
	}

	// A binary that does not match SHA256SUMS is never installed.
	binary = []byte("tampered")
	root = t.TempDir()
	if out, err := run(root); err == nil || !strings.Contains(out, "checksum mismatch") {
		t.Errorf("tampered binary: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(root, "usr/local/bin/workshop")); err == nil {
		t.Error("the tampered binary was installed")
	}
}

func TestSnippets(t *testing.T) {
	sums := map[string]string{
		"workshop-linux-amd64": strings.Repeat("a", 64),
		"workshop-linux-arm64": strings.Repeat("b", 64),
	}
	s := InstallSnippets("https://course.example.com/", "YOUR_TOKEN", "ghcr.io/coursekit/workshop:v1", sums)
	if s.OneLine != "curl -fsSL 'https://course.example.com'/agent/install.sh | sudo sh -s -- --token 'YOUR_TOKEN'" {
		t.Errorf("one line: %s", s.OneLine)
	}
	if s.OneLineDocker != s.OneLine+" --docker" {
		t.Errorf("one line for a container: %s", s.OneLineDocker)
	}
	for _, want := range []string{"amd64) SUM=" + sums["workshop-linux-amd64"], "arm64) SUM=" + sums["workshop-linux-arm64"], "sha256sum -c"} {
		if !strings.Contains(s.Manual, want) {
			t.Errorf("manual lacks %q:\n%s", want, s.Manual)
		}
	}
	for _, want := range []string{"--restart unless-stopped", "/var/run/docker.sock:/var/run/docker.sock:ro", "allowlist", "WORKSHOP_AGENT_TOKEN='YOUR_TOKEN'"} {
		if !strings.Contains(s.DockerRun, want) {
			t.Errorf("docker run lacks %q:\n%s", want, s.DockerRun)
		}
	}
	for _, want := range []string{"User=workshop-agent", "SupplementaryGroups=docker", "NoNewPrivileges=yes", "ProtectSystem=strict", "EnvironmentFile=/etc/workshop-agent.env"} {
		if !strings.Contains(s.SystemdUnit, want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	if _, err := exec.LookPath("shellcheck"); err == nil {
		cmd := exec.Command("shellcheck", "-s", "sh", "-")
		cmd.Stdin = strings.NewReader("#!/bin/sh\n" + s.Manual + s.DockerRun + s.OneLine + "\n" + s.OneLineDocker + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("shellcheck on the snippets: %v\n%s", err, out)
		}
	}
	if got := ParseChecksums([]byte(sums["workshop-linux-amd64"] + "  workshop-linux-amd64\nnoise\n")); got["workshop-linux-amd64"] != sums["workshop-linux-amd64"] || len(got) != 1 {
		t.Errorf("ParseChecksums: %v", got)
	}
}

func TestSystemdUnitVerifies(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed: the unit is checked where it is")
	}
	// verify wants the command to exist: point it at one that does.
	unit := strings.Replace(SystemdUnit("https://course.example.com/x%y"), "/usr/local/bin/workshop", "/bin/true", 1)
	path := filepath.Join(t.TempDir(), "workshop-agent.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("systemd-analyze", "verify", path).CombinedOutput()
	if err != nil || strings.Contains(string(out), "Unknown") || strings.Contains(string(out), "Invalid") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
