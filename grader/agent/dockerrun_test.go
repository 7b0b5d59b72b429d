package agent

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coursekit/workshop/internal/testenv"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
)

// TestAgentInAContainer runs the agent the way the docker run snippet
// does: its own static binary in a FROM scratch image, as nobody with only
// the docker group, no capabilities, a read-only root and the socket
// mounted :ro; and still it answers reads and refuses writes.
func TestAgentInAContainer(t *testing.T) {
	direct := requireDocker(t)
	_, err := exec.LookPath("go")
	testenv.Require(t, "go toolchain", err)
	src, err := sourceDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "workshop"), "./grader/agent/testdata/agentmain")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	const tag = "workshop-agent-test:agent"
	buildImage(t, direct, tag, filepath.Join(dir, "workshop"))

	v := &tokens{m: map[string]int64{"tok-40": 40}}
	rep := startReplica(t, v, nil)
	var st syscall.Stat_t
	if err := syscall.Stat(DefaultDockerSocket, &st); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	name := fmt.Sprintf("workshop-agent-test-%d", time.Now().UnixNano())
	c, err := direct.ContainerCreate(ctx, &container.Config{
		Image: tag,
		Cmd:   []string{"agent", "--server", rep.srv.URL},
		Env:   []string{"WORKSHOP_AGENT_TOKEN=tok-40"},
		User:  "65534:65534",
	}, &container.HostConfig{
		Binds:          []string{DefaultDockerSocket + ":" + DefaultDockerSocket + ":ro"},
		GroupAdd:       []string{fmt.Sprint(st.Gid)},
		ReadonlyRootfs: true,
		CapDrop:        []string{"ALL"},
		SecurityOpt:    []string{"no-new-privileges"},
		// The test server listens on the host's loopback.
		NetworkMode: "host",
	}, nil, nil, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true}) })
	if err := direct.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	logs := func() string {
		rc, err := direct.ContainerLogs(ctx, c.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
		if err != nil {
			return err.Error()
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		return string(b)
	}
	deadline := time.Now().Add(15 * time.Second)
	for _, ok := rep.hub.Status(40); !ok; _, ok = rep.hub.Status(40) {
		if time.Now().After(deadline) {
			t.Fatalf("the containerised agent did not connect; its log:\n%s", logs())
		}
		time.Sleep(50 * time.Millisecond)
	}

	cli := tunnelClient(t, func(ctx context.Context) (net.Conn, error) { return rep.hub.Dial(ctx, 40) })
	list, err := cli.ContainerList(ctx, container.ListOptions{})
	if err != nil {
		t.Fatalf("list through the containerised agent: %v", err)
	}
	found := false
	for _, l := range list {
		found = found || l.ID == c.ID
	}
	if !found {
		t.Error("the agent's own container is not in the list it returned")
	}
	// The :ro mount does not stop a write; the agent does.
	assertRefused(t, "stop", cli.ContainerStop(ctx, c.ID, container.StopOptions{}))
	// The engine collects the container's output asynchronously.
	deadline = time.Now().Add(5 * time.Second)
	for !strings.Contains(logs(), "refused request from the course server") {
		if time.Now().After(deadline) {
			t.Fatalf("no refusal in the agent's log:\n%s", logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// buildImage builds FROM scratch with the binary as its entrypoint.
func buildImage(t *testing.T, direct *client.Client, tag, binary string) {
	t.Helper()
	bin, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dockerfile := "FROM scratch\nCOPY workshop /workshop\nENTRYPOINT [\"/workshop\"]\n"
	tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(dockerfile))})
	tw.Write([]byte(dockerfile))
	tw.WriteHeader(&tar.Header{Name: "workshop", Mode: 0o755, Size: int64(len(bin))})
	tw.Write(bin)
	tw.Close()
	resp, err := direct.ImageBuild(context.Background(), &buf, build.ImageBuildOptions{Tags: []string{tag}, Remove: true, ForceRemove: true})
	if err != nil {
		t.Fatalf("build image: %v", err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(out), "Successfully tagged") {
		t.Fatalf("build image:\n%s", out)
	}
}
