package agent

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
)

// testImage is imported by the tests themselves (one empty file), so they
// need no registry and no other test's images.
const testImage = "workshop-agent-test:empty"

func ensureTestImage(t *testing.T, direct *client.Client) {
	t.Helper()
	ctx := context.Background()
	if _, err := direct.ImageInspect(ctx, testImage); err == nil {
		return
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "empty", Mode: 0o644, Size: 0, Typeflag: tar.TypeReg})
	tw.Close()
	rc, err := direct.ImageImport(ctx, image.ImportSource{Source: &buf, SourceName: "-"}, testImage, image.ImportOptions{})
	if err != nil {
		t.Fatalf("import %s: %v", testImage, err)
	}
	io.Copy(io.Discard, rc)
	rc.Close()
}

// createIdle creates (never starts) a container straight on the engine, as
// the thing the grader reads and the server must not be able to remove.
func createIdle(t *testing.T, direct *client.Client, name string) string {
	t.Helper()
	ensureTestImage(t, direct)
	ctx := context.Background()
	c, err := direct.ContainerCreate(ctx, &container.Config{Image: testImage, Cmd: []string{"/empty"}}, nil, nil, nil, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true}) })
	return c.ID
}

func TestTunnelReadsAndRefusals(t *testing.T) {
	direct := requireDocker(t)
	name := fmt.Sprintf("agent-test-%d", time.Now().UnixNano())
	id := createIdle(t, direct, name)

	v := &tokens{m: map[string]int64{"tok-7": 7}}
	rep := startReplica(t, v, nil)
	logs := startAgent(t, rep.srv.URL, "tok-7")
	waitFor(t, 20*time.Second, "agent connected", connected(rep.hub, 7))
	st, _ := rep.hub.Status(7)
	if !strings.Contains(st.DockerVersion, "API") || st.Hostname == "" || st.Since.IsZero() {
		t.Errorf("status %+v lacks the hello", st)
	}

	cli := tunnelClient(t, func(ctx context.Context) (net.Conn, error) { return rep.hub.Dial(ctx, 7) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Every read the grader makes passes.
	if _, err := cli.ServerVersion(ctx); err != nil {
		t.Fatalf("version through the tunnel: %v", err)
	}
	if _, err := cli.Info(ctx); err != nil {
		t.Errorf("info: %v", err)
	}
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true})
	if err != nil {
		t.Fatalf("container list: %v", err)
	}
	found := false
	for _, c := range list {
		found = found || c.ID == id
	}
	if !found {
		t.Errorf("container %s not in the list seen through the tunnel", name)
	}
	if got, err := cli.ContainerInspect(ctx, name); err != nil || got.ID != id {
		t.Errorf("inspect %s: %v", name, err)
	}
	if rc, err := cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: "20"}); err != nil {
		t.Errorf("logs: %v", err)
	} else {
		io.Copy(io.Discard, rc)
		rc.Close()
	}
	if imgs, err := cli.ImageList(ctx, image.ListOptions{}); err != nil || len(imgs) == 0 {
		t.Errorf("image list: %d images, %v", len(imgs), err)
	}
	if _, err := cli.ImageInspect(ctx, testImage); err != nil {
		t.Errorf("image inspect: %v", err)
	}
	if _, err := cli.ImageHistory(ctx, testImage); err != nil {
		t.Errorf("image history: %v", err)
	}
	if _, err := cli.NetworkList(ctx, network.ListOptions{}); err != nil {
		t.Errorf("network list: %v", err)
	}
	if _, err := cli.NetworkInspect(ctx, "bridge", network.InspectOptions{}); err != nil {
		t.Errorf("network inspect: %v", err)
	}

	// Every change is refused by the agent, and the engine never sees it.
	created := name + "-created"
	_, err = cli.ContainerCreate(ctx, &container.Config{Image: testImage}, nil, nil, nil, created)
	assertRefused(t, "create", err)
	if _, err := direct.ContainerInspect(ctx, created); err == nil {
		t.Errorf("container %s exists: the create reached the engine", created)
	}
	assertRefused(t, "remove", cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true}))
	if _, err := direct.ContainerInspect(ctx, id); err != nil {
		t.Errorf("container removed through the tunnel: %v", err)
	}
	_, err = cli.ContainerExecCreate(ctx, id, container.ExecOptions{Cmd: []string{"id"}})
	assertRefused(t, "exec", err)
	// The client reports a refused hijack by status only.
	if _, err = cli.ContainerAttach(ctx, id, container.AttachOptions{Stream: true, Stdout: true}); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("attach: got %v, want a 403", err)
	}
	assertRefused(t, "start", cli.ContainerStart(ctx, id, container.StartOptions{}))
	if c, _ := direct.ContainerInspect(ctx, id); c.State != nil && c.State.Running {
		t.Errorf("container started through the tunnel")
	}

	// Raw requests a compromised server could send.
	for _, raw := range []string{
		"GET /v1.41/containers/" + id + "/attach?stream=1 HTTP/1.1\r\nHost: docker\r\n\r\n",
		"GET /v1.41/../../etc HTTP/1.1\r\nHost: docker\r\n\r\n",
		"GET /containers/" + id + "/export HTTP/1.1\r\nHost: docker\r\n\r\n",
		"GET /events HTTP/1.1\r\nHost: docker\r\n\r\n",
		"GET /containers/" + id + "/logs?follow=1&stdout=1 HTTP/1.1\r\nHost: docker\r\n\r\n",
		"GET /_ping HTTP/1.1\r\nHost: docker\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n\r\n",
		"GET /containers/json HTTP/1.1\r\nHost: docker\r\nContent-Length: 2\r\n\r\n{}",
		"GET http://docker/containers/json HTTP/1.1\r\nHost: docker\r\n\r\n",
	} {
		status, body := rawRequest(t, rep.hub, 7, raw)
		if status != http.StatusForbidden || !strings.Contains(body, "refused by the workshop agent: read-only") {
			t.Errorf("%q: got %d %q, want the agent's 403", strings.SplitN(raw, "\r\n", 2)[0], status, body)
		}
	}
	// One connection carries several requests (keep-alive), refused or not.
	status, _ := rawRequest(t, rep.hub, 7, "GET /events HTTP/1.1\r\nHost: docker\r\n\r\nGET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n")
	if status != http.StatusForbidden {
		t.Errorf("pipelined: first status %d", status)
	}

	for _, want := range []string{
		`msg="refused request from the course server" method=POST path="/v1.`,
		"/containers/create?name=" + created,
		`method=DELETE path="/v1.`,
		"/exec", "/attach", "path=/v1.41/../../etc", "path=/events",
		"connection upgrade (hijack)", "request body on a read",
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("agent log lacks %q:\n%s", want, logs.String())
		}
	}
}

func assertRefused(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), "refused by the workshop agent") {
		t.Errorf("%s: got %v, want the agent's refusal", what, err)
	}
}

// rawRequest writes raw on a fresh tunnel and reads the first response.
func rawRequest(t *testing.T, h *Hub, id int64, raw string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := h.Dial(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRevokedTokenDisconnectsAtOnce(t *testing.T) {
	requireDocker(t)
	v := &tokens{m: map[string]int64{"tok-8": 8}}
	rep := startReplica(t, v, nil)
	disconnected := make(chan Status, 1)
	rep.hub.OnDisconnect = func(id int64, st Status) {
		if id == 8 {
			disconnected <- st
		}
	}
	logs := startAgent(t, rep.srv.URL, "tok-8")
	waitFor(t, 20*time.Second, "agent connected", connected(rep.hub, 8))

	v.revoke("tok-8")
	start := time.Now()
	rep.hub.Disconnect(8)
	if _, err := rep.hub.Dial(context.Background(), 8); !errors.Is(err, ErrNotConnected) {
		t.Errorf("Dial after Disconnect: %v, want ErrNotConnected", err)
	}
	select {
	case st := <-disconnected:
		if st.Connected {
			t.Errorf("OnDisconnect status says connected")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("OnDisconnect not called")
	}
	t.Logf("disconnected in %s", time.Since(start))
	waitFor(t, 20*time.Second, "agent log of the refused token", func() bool {
		return strings.Contains(logs.String(), "token revoked or invalid")
	})
	if !strings.Contains(logs.String(), "agent token revoked") {
		t.Errorf("agent log lacks the server's close reason:\n%s", logs)
	}
	time.Sleep(500 * time.Millisecond) // several reconnect attempts
	if _, ok := rep.hub.Status(8); ok {
		t.Error("agent with a revoked token is connected again")
	}
}

func TestAgentSurvivesServerRestart(t *testing.T) {
	requireDocker(t)
	v := &tokens{m: map[string]int64{"tok-9": 9}}
	first := startReplica(t, v, nil)
	addr := first.srv.Listener.Addr().String()
	var recorded atomic.Bool
	first.hub.OnDisconnect = func(int64, Status) {
		time.Sleep(200 * time.Millisecond) // a slow store write
		recorded.Store(true)
	}
	startAgent(t, first.srv.URL, "tok-9")
	waitFor(t, 20*time.Second, "agent connected", connected(first.hub, 9))

	first.stop()
	// The server closes its store right after: the disconnection must be
	// recorded by then.
	if !recorded.Load() {
		t.Error("Hub.Close returned before OnDisconnect had run")
	}
	var ln net.Listener
	waitFor(t, 20*time.Second, "the address to be free", func() bool {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err == nil
	})
	second := startReplica(t, v, ln)
	waitFor(t, 10*time.Second, "agent reconnected to the new server", connected(second.hub, 9))
	cli := tunnelClient(t, func(ctx context.Context) (net.Conn, error) { return second.hub.Dial(ctx, 9) })
	if _, err := cli.ContainerList(context.Background(), container.ListOptions{}); err != nil {
		t.Fatalf("list after restart: %v", err)
	}
}

func TestCheckOnAnotherReplicaReachesTheAgent(t *testing.T) {
	requireDocker(t)
	v := &tokens{m: map[string]int64{"tok-10": 10}}
	a := startReplica(t, v, nil) // holds the agent
	b := startReplica(t, v, nil) // runs the check
	startAgent(t, a.srv.URL, "tok-10")
	waitFor(t, 20*time.Second, "agent connected to A", connected(a.hub, 10))
	if _, ok := b.hub.Status(10); ok {
		t.Fatal("agent unexpectedly on B")
	}
	internal := a.srv.URL + "/internal/agent-dial"

	// B's grader: not held locally, so through A's internal endpoint, as
	// the row in PostgreSQL would say.
	lookup := func(_ context.Context, id int64) (string, error) {
		if id == 10 {
			return internal, nil
		}
		return "", nil
	}
	dial := b.hub.Dialer(10, testSecret, lookup)
	cli := tunnelClient(t, func(ctx context.Context) (net.Conn, error) { return dial(ctx, "tcp", "agent:2375") })
	ctx := context.Background()
	if _, err := cli.ContainerList(ctx, container.ListOptions{All: true}); err != nil {
		t.Fatalf("list via A: %v", err)
	}
	// Outlive the servers' read and write timeouts, on one kept-alive
	// connection and on the agent's session.
	since, _ := a.hub.Status(10)
	time.Sleep(700 * time.Millisecond)
	if _, err := cli.ContainerList(ctx, container.ListOptions{All: true}); err != nil {
		t.Fatalf("list via A after a pause: %v", err)
	}
	if now, ok := a.hub.Status(10); !ok || !now.Since.Equal(since.Since) {
		t.Errorf("the agent's session was interrupted: %v %v", since.Since, now.Since)
	}
	if _, err := b.hub.Dialer(11, testSecret, lookup)(ctx, "tcp", "agent:2375"); !errors.Is(err, ErrNotConnected) {
		t.Errorf("a student connected nowhere: %v", err)
	}
	if _, err := cli.ImageList(ctx, image.ListOptions{}); err != nil {
		t.Fatalf("images via A: %v", err)
	}
	_, err := cli.ContainerCreate(ctx, &container.Config{Image: testImage}, nil, nil, nil, "")
	assertRefused(t, "create via A", err)

	if _, err := DialVia(ctx, internal, testSecret, 11); !errors.Is(err, ErrNotConnected) {
		t.Errorf("unknown student via A: %v, want ErrNotConnected", err)
	}
	if _, err := DialVia(ctx, internal, "wrong", 10); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("wrong secret: %v, want 403", err)
	}
}

func TestNewerAgentReplacesOlder(t *testing.T) {
	requireDocker(t)
	v := &tokens{m: map[string]int64{"tok-12": 12}}
	rep := startReplica(t, v, nil)
	var disconnects, connects int
	events := make(chan string, 10)
	rep.hub.OnConnect = func(int64, Status) { events <- "connect" }
	rep.hub.OnDisconnect = func(int64, Status) { events <- "disconnect" }
	older := startAgent(t, rep.srv.URL, "tok-12")
	waitFor(t, 20*time.Second, "first agent", connected(rep.hub, 12))
	first, _ := rep.hub.Status(12)
	startAgent(t, rep.srv.URL, "tok-12")
	waitFor(t, 20*time.Second, "second agent", func() bool {
		st, ok := rep.hub.Status(12)
		return ok && st.Since.After(first.Since)
	})
	time.Sleep(100 * time.Millisecond)
	for len(events) > 0 {
		switch <-events {
		case "connect":
			connects++
		case "disconnect":
			disconnects++
		}
	}
	if connects < 2 || disconnects != 0 {
		t.Errorf("connects=%d disconnects=%d; a replaced session must not report a disconnect", connects, disconnects)
	}
	// The older agent tells its host why, and backs off instead of taking
	// the session back at once.
	waitFor(t, 20*time.Second, "the replaced agent's explanation", func() bool {
		return strings.Contains(older.String(), "another agent connected to the course server with this token")
	})
}

func TestDialViaGivesUpWithTheContext(t *testing.T) {
	// A replica that accepts the connection and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = DialVia(ctx, "http://"+ln.Addr().String()+"/internal/agent-dial", testSecret, 1)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 15*time.Second {
		t.Errorf("got %v after %s, want the context's deadline", err, time.Since(start))
	}
	if _, err := DialVia(context.Background(), "ftp://x", testSecret, 1); err == nil {
		t.Error("an ftp:// internal address was accepted")
	}
}
