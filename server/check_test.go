package server

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coursekit/workshop/grader"
	"github.com/coursekit/workshop/internal/testenv"
)

// dockerSocket is the local engine the tests grade (our own test engine).
const dockerSocket = "/var/run/docker.sock"

func TestCheckMyWorkRunsStoresAndShowsResults(t *testing.T) {
	if _, err := os.Stat(dockerSocket); err != nil {
		testenv.Require(t, "Docker engine", err)
	}
	clock := time.Now()
	h := newHarness(t, func(o *Options) {
		o.Grader = grader.New(grader.Policy{AllowPlainDocker: true, AllowLoopback: true}, grader.Options{})
		o.Targets.AllowPlain = true
		o.CheckEvery = 30 * time.Second
	})
	h.Srv.now = func() time.Time { return clock }
	w := h.world()
	c := h.sessionClient(w.StudentA)

	// Before any setup, the step says where to start.
	body := readBody(h.get(c, "/guide/guided/build-image"))
	if !strings.Contains(body, "set up your target") {
		t.Error("the check panel does not send a student without a target to /target")
	}
	resp := h.postForm(c, "/target", url.Values{"docker_mode": {"plain"}, "docker_endpoint": {"unix://" + dockerSocket}, "aws_mode": {"none"}, "aws_plan": {"credits"}})
	if resp.StatusCode != 303 {
		t.Fatalf("save target: %d %s", resp.StatusCode, readBody(resp))
	}
	readBody(resp)

	resp = h.postForm(c, "/steps/build-image/check", nil)
	readBody(resp)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/guide/guided/build-image#check" {
		t.Fatalf("check: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	runs, err := h.DB.LatestRuns(context.Background(), w.StudentA.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range runs {
		got[r.CheckID] = r.Status
		if r.CohortID == nil || *r.CohortID != w.CohortA.ID {
			t.Errorf("run of %s not tied to the student's cohort", r.CheckID)
		}
	}
	if got["docker-reachable"] != "pass" || got["app-image-built"] == "" {
		t.Fatalf("stored statuses %v; want docker-reachable pass and a result for app-image-built", got)
	}
	body = readBody(h.get(c, "/guide/guided/build-image"))
	for _, want := range []string{"The grader reaches your Docker host", "result pass", "What the check saw"} {
		if !strings.Contains(body, want) {
			t.Errorf("the step page lacks %q after a check", want)
		}
	}

	// A second press within the limit runs nothing and says when to retry.
	clock = clock.Add(5 * time.Second)
	resp = h.postForm(c, "/steps/build-image/check", nil)
	readBody(resp)
	history, _ := h.DB.StepHistory(context.Background(), w.StudentA.ID, "build-image", 100)
	if len(history) != 2 {
		t.Errorf("a check within the rate limit ran again: %d runs stored", len(history))
	}
	if body := readBody(h.get(c, "/guide/guided/build-image")); !strings.Contains(body, "ago") {
		t.Error("the page does not say when the step was last checked")
	}
	resp = h.api(c, "POST", "/api/v1/steps/build-image/check", "{}", "")
	if text := readBody(resp); resp.StatusCode != 429 || !strings.Contains(text, "ago") {
		t.Errorf("API within the limit: %d %s", resp.StatusCode, text)
	}
	// After the limit, the JSON API runs it again and returns the results.
	clock = clock.Add(time.Minute)
	resp = h.api(c, "POST", "/api/v1/steps/build-image/check", "{}", "")
	if text := readBody(resp); resp.StatusCode != 200 || !strings.Contains(text, `"check_id":"docker-reachable"`) {
		t.Errorf("API check: %d %s", resp.StatusCode, text)
	}
}

func TestCheckWithoutTargetSaysSo(t *testing.T) {
	h := newHarness(t)
	w := h.world()
	c := h.sessionClient(w.StudentB)
	resp := h.api(c, "POST", "/api/v1/steps/publish-port/check", "{}", "")
	text := readBody(resp)
	if resp.StatusCode != 200 || !strings.Contains(text, `"status":"error"`) {
		t.Fatalf("%d %s", resp.StatusCode, text)
	}
	if resp := h.postForm(c, "/steps/clone/check", nil); resp.StatusCode != 400 {
		t.Errorf("a step with nothing to check: %d, want 400", resp.StatusCode)
	}
}
