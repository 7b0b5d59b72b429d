package agent

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/coursekit/workshop/grader"
	"github.com/coursekit/workshop/internal/testenv"
)

// TestGraderChecksThroughTheAgent runs every Docker check of the real
// grader twice, straight on the engine's socket and through the agent, and
// expects the same outcome: the allowlist lets every read the checks make
// through, and the tunnel changes nothing about what they see.
func TestGraderChecksThroughTheAgent(t *testing.T) {
	requireDocker(t)
	// The comparison needs an engine no other package's test changes
	// meanwhile.
	testenv.OwnDockerEngine(t)
	v := &tokens{m: map[string]int64{"tok-30": 30}}
	rep := startReplica(t, v, nil)
	logs := startAgent(t, rep.srv.URL, "tok-30")
	waitFor(t, 20*time.Second, "agent connected", connected(rep.hub, 30))

	var ids []string
	for _, c := range grader.All() {
		switch {
		case strings.HasPrefix(c.ID(), "security-group"), c.ID() == "instance-type-free-tier", c.ID() == "app-answers-http":
			// AWS and the app's HTTP answer do not go through Docker.
		default:
			ids = append(ids, c.ID())
		}
	}
	g := grader.New(grader.Policy{AllowPlainDocker: true, AllowLoopback: true}, grader.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	agentTarget := grader.Target{Docker: grader.DockerTarget{
		Endpoint: "agent",
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return rep.hub.Dial(ctx, 30)
		},
	}}
	localTarget := grader.Target{Docker: grader.DockerTarget{Endpoint: "unix://" + DefaultDockerSocket}}
	// Other packages' tests share the engine and change it while this one
	// runs: compare only when two direct runs around the tunnelled one agree.
	var direct, tunnel []grader.Result
	for attempt := 0; ; attempt++ {
		if attempt == 5 {
			testenv.Require(t, "a Docker engine that holds still", errors.New("its state kept changing under concurrent tests; nothing to compare"))
		}
		before := g.RunStep(ctx, "", localTarget, ids)
		tunnel = g.RunStep(ctx, "", agentTarget, ids)
		direct = g.RunStep(ctx, "", localTarget, ids)
		if sameOutcomes(before, direct) {
			break
		}
	}
	for i, r := range tunnel {
		d := direct[i]
		if r.Status != d.Status || r.Kind != d.Kind {
			t.Errorf("%s: through the agent %s/%s %q, directly %s/%s %q", r.CheckID, r.Status, r.Kind, r.Summary, d.Status, d.Kind, d.Summary)
		}
		if r.CheckID == "docker-reachable" && (r.Status != grader.StatusPass || !strings.Contains(r.Summary, "through the agent")) {
			t.Errorf("docker-reachable: %s %q", r.Status, r.Summary)
		}
	}
	if strings.Contains(logs.String(), "refused request") {
		t.Errorf("the agent refused a request the grader's checks make:\n%s", logs)
	}
	t.Logf("%d checks compared", len(tunnel))
}

func sameOutcomes(a, b []grader.Result) bool {
	for i := range a {
		if a[i].Status != b[i].Status || a[i].Kind != b[i].Kind {
			return false
		}
	}
	return len(a) == len(b)
}
