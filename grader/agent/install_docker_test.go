package agent

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coursekit/workshop/internal/testenv"
)

// TestInstallScriptDockerMode runs the one-liner's --docker variant on the
// real engine: the verified agent binary goes into a local image built on
// the host, the container starts unprivileged with the socket mounted, and
// the course server reaches the engine through it.
func TestInstallScriptDockerMode(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skip("the script installs amd64 or arm64 builds only")
	}
	cli := testenv.Docker(t)
	_, err := exec.LookPath("go")
	testenv.Require(t, "go toolchain", err)
	ctx := context.Background()
	downloads := t.TempDir()
	if err := BuildBinaries(ctx, downloads, []string{runtime.GOARCH}); err != nil {
		t.Fatal(err)
	}

	// One server, as the course server: the script, the downloads, the
	// agents' websocket.
	hub := NewHub(&tokens{m: map[string]int64{"tok-41": 41}})
	t.Cleanup(func() { hub.Close() })
	mux := http.NewServeMux()
	mux.Handle("GET "+ConnectPath, hub)
	mux.Handle("GET /downloads/", http.StripPrefix("/downloads/", http.FileServer(http.Dir(downloads))))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	t.Cleanup(func() {
		_ = exec.Command("docker", "rm", "-f", "workshop-agent").Run()
		_ = exec.Command("docker", "rmi", "workshop-agent:local").Run()
	})
	script := filepath.Join(t.TempDir(), "install.sh")
	if err := os.WriteFile(script, []byte(InstallScript(srv.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	out, err := exec.Command("sh", script, "--token", "tok-41", "--docker", "--root", root).CombinedOutput()
	if err != nil {
		t.Fatalf("install --docker: %v\n%s", err, out)
	}
	for _, want := range []string{"Checksum verified", "Built the image workshop-agent:local", "docker logs -f workshop-agent"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the script's output lacks %q:\n%s", want, out)
		}
	}
	waitFor(t, 60*time.Second, "the containerised agent connected", connected(hub, 41))

	// The server reaches the engine through the container.
	c := tunnelClient(t, func(ctx context.Context) (net.Conn, error) { return hub.Dial(ctx, 41) })
	if _, err := c.Ping(ctx); err != nil {
		t.Fatalf("ping through the containerised agent: %v", err)
	}
	info, err := cli.ContainerInspect(ctx, "workshop-agent")
	if err != nil {
		t.Fatal(err)
	}
	hc := info.HostConfig
	if info.Config.User != "65534:65534" || !hc.ReadonlyRootfs || !slices.Contains(hc.CapDrop, "ALL") ||
		hc.RestartPolicy.Name != "unless-stopped" || !slices.Contains(hc.SecurityOpt, "no-new-privileges") {
		t.Errorf("the container is not locked down: user %q, read-only %v, cap-drop %v, restart %q, security %v",
			info.Config.User, hc.ReadonlyRootfs, hc.CapDrop, hc.RestartPolicy.Name, hc.SecurityOpt)
	}
	for _, m := range info.Mounts {
		if m.Destination == "/var/run/docker.sock" && m.RW {
			t.Error("the socket is mounted read-write")
		}
	}
	if slices.Contains(info.Config.Cmd, "tok-41") || strings.Contains(strings.Join(info.Args, " "), "tok-41") {
		t.Error("the token is on the container's command line")
	}
}
