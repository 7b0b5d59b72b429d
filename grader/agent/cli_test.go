package agent

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestRunCLIUsageErrors(t *testing.T) {
	t.Setenv("WORKSHOP_AGENT_TOKEN", "")
	t.Setenv("DOCKER_HOST", "")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"unknown flag", []string{"--port", "1"}, nil, 2, "flag provided but not defined: -port"},
		{"no server", []string{"--token", "t"}, nil, 2, "--server is required"},
		{"bad scheme", []string{"--server", "ftp://x", "--token", "t"}, nil, 2, "must start with https://"},
		{"no host", []string{"--server", "https://", "--token", "t"}, nil, 2, "has no host"},
		{"no token", []string{"--server", "https://course.example.com"}, nil, 2, "no token: set WORKSHOP_AGENT_TOKEN"},
		{"extra argument", []string{"--server", "https://c", "--token", "t", "now"}, nil, 2, `unexpected argument "now"`},
		{"tcp DOCKER_HOST", []string{"--server", "https://c", "--token", "t"}, map[string]string{"DOCKER_HOST": "tcp://1.2.3.4:2375"}, 2, "is not a unix socket"},
		{"help", []string{"--help"}, nil, 0, "usage: workshop agent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := RunCLI(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("code %d, stderr %q; want %d and %q", code, stderr.String(), tt.code, tt.want)
			}
		})
	}
	var stdout bytes.Buffer
	if code := RunCLI(context.Background(), []string{"--version"}, &stdout, &bytes.Buffer{}); code != 0 || !strings.Contains(stdout.String(), Version) {
		t.Errorf("--version: %d %q", code, stdout.String())
	}
}

func TestRunCLIConnectsWithTokenFromEnvironment(t *testing.T) {
	requireDocker(t)
	v := &tokens{m: map[string]int64{"env-token": 21}}
	rep := startReplica(t, v, nil)
	t.Setenv("WORKSHOP_AGENT_TOKEN", "env-token")
	t.Setenv("DOCKER_HOST", "unix://"+DefaultDockerSocket)
	ctx, cancel := context.WithCancel(context.Background())
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- RunCLI(ctx, []string{"--server", rep.srv.URL + "/"}, &bytes.Buffer{}, &stderr) }()
	waitFor(t, 20*time.Second, "agent connected", connected(rep.hub, 21))
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after stop, want 0", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("agent did not stop")
	}
	if strings.Contains(stderr.String(), "env-token") {
		t.Error("the token was logged")
	}
}
