package grader

import (
	"context"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
)

func TestAppAnswersHTTP(t *testing.T) {
	l, _, img := appLab(t)
	l.holdPort8000()
	// A free port on this machine that nothing listens on.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	res := fakeResolver{"app.example": {"127.0.0.1"}, "metadata.example": {"169.254.169.254"}}
	tests := []struct {
		name    string
		env     []string
		url     string
		o       Options
		status  Status
		kind    string
		hintHas string
	}{
		{"answers", nil, "http://127.0.0.1:8000/", Options{}, StatusPass, "", ""},
		{"allowed hosts", nil, "http://app.example:8000/", Options{Resolver: res}, StatusFail, KindDisallowed, "-e DJANGO_ALLOWED_HOSTS=app.example"},
		{"allowed hosts set", []string{"DJANGO_ALLOWED_HOSTS=app.example"}, "app.example:8000", Options{Resolver: res}, StatusPass, "", ""},
		{"server error", []string{"LAB_MODE=error"}, "http://127.0.0.1:8000/", Options{}, StatusFail, KindServerError, "docker logs"},
		{"another page", []string{"LAB_MODE=other"}, "http://127.0.0.1:8000/", Options{}, StatusFail, KindNotLabPage, "docker ps"},
		{"refused", nil, "http://" + closed + "/", Options{}, StatusFail, KindHTTPRefused, "-p 8000:8000"},
		{"timeout", nil, "http://" + blackhole(t) + "/", Options{CheckTimeout: 1500 * time.Millisecond}, StatusFail, KindHTTPTimeout, "security group"},
		{"metadata", nil, "http://metadata.example/latest/", Options{Resolver: res}, StatusError, KindBlocked, "public IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := l.run(runSpec{image: img, env: tt.env, ports: []string{"8000:8000"}})
			if err != nil {
				t.Fatal(err)
			}
			defer l.remove(id)
			l.waitState(id, container.StateRunning)
			waitListening(t, "127.0.0.1:8000")
			tg := l.target()
			tg.AppURL = tt.url
			r := l.check(l.grader(tt.o), tg, "app-answers-http")
			expect(t, r, tt.status, tt.kind, tt.hintHas)
		})
	}
}

// blackhole returns an address whose SYNs go unanswered, as a port closed
// by a security group: a listener with a full accept queue that never
// accepts makes the kernel drop further connection attempts.
func blackhole(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(fd)
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	// Fill the accept queue; these connections complete and are never accepted.
	for i := 0; i < 4; i++ {
		if c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond); err == nil {
			t.Cleanup(func() { c.Close() })
		}
	}
	return addr
}

// waitListening waits until the published port accepts connections.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	for i := 0; i < 50; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			time.Sleep(100 * time.Millisecond) // the app inside starts a moment later
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never listened", addr)
}

func TestUserNetwork(t *testing.T) {
	l, _, img := appLab(t)
	tg := l.target()
	sleeper := []string{"LAB_MODE=sleep"}
	check := func() Result { return l.check(l.grader(Options{}), tg, "user-network-with-app") }

	app, _ := l.run(runSpec{image: img, env: sleeper})
	other, _ := l.run(runSpec{image: img, env: sleeper})
	// Both containers are the app here, as two replicas would be; the
	// second counts as "another container".
	expect(t, check(), StatusFail, KindDefaultBridge, "docker network create")
	l.remove(other)
	_ = app

	netName := "labnet-" + l.id
	n, err := l.cli.NetworkCreate(l.ctx(), netName, network.CreateOptions{Driver: "bridge", Labels: map[string]string{"workshop.test.scope": l.id}})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.cli.NetworkConnect(l.ctx(), n.ID, app, nil); err != nil {
		t.Fatal(err)
	}
	expect(t, check(), StatusFail, KindAloneOnNetwork, "--network "+netName)
	second, _ := l.run(runSpec{image: img, env: sleeper, network: netName})
	expect(t, check(), StatusPass, "", "")
	l.remove(app, second)
}

func TestMultiStage(t *testing.T) {
	l := newLab(t)
	tg := l.target()
	multiLabels := `LABEL workshop.lab="django-app" workshop.lab.build="multi-stage"`
	check := func(id string) Result { return l.check(l.grader(Options{}), tg, id) }

	expect(t, check("multi-stage-image-smaller"), StatusFail, KindNoMultiStage, "Dockerfile.multistage")
	multi := l.build(imageSpec{tag: "django-app-" + l.id + ":slim", multi: true, lines: []string{multiLabels, appCmd}})
	expect(t, check("multi-stage-image-smaller"), StatusWarn, KindNothingToCompare, "docker build -t django-app")
	l.build(imageSpec{tag: "django-app-" + l.id, pad: 3 << 20, lines: []string{appLabels, appCmd}})
	r := check("multi-stage-image-smaller")
	expect(t, r, StatusPass, "", "")
	if !strings.Contains(r.Summary, "smaller") {
		t.Errorf("summary %q", r.Summary)
	}

	expect(t, check("multi-stage-container-runs"), StatusFail, KindNoContainer, "--name web-multi -p 8001:8000")
	// The guide's broken build: the runtime stage lacks the installed packages.
	broken := l.build(imageSpec{tag: "django-app-" + l.id + ":broken", multi: true, suffix: "broken", lines: []string{multiLabels, `ENV LAB_MODE=crash`, appCmd}})
	bad, _ := l.run(runSpec{image: broken})
	l.waitState(bad, container.StateExited)
	r = check("multi-stage-container-runs")
	expect(t, r, StatusFail, KindMissingPackages, "COPY --from=builder /install /usr/local")
	if !strings.Contains(strings.Join(r.Evidence, "\n"), "No module named 'django'") {
		t.Errorf("evidence lacks the log line: %v", r.Evidence)
	}
	good, _ := l.run(runSpec{image: multi, env: []string{"LAB_MODE=sleep"}})
	l.waitState(good, container.StateRunning)
	expect(t, check("multi-stage-container-runs"), StatusPass, "", "")
}

// TestGraderOnlyReadsAndCountsCalls runs every check against a populated
// host through a transport that fails any call that is not a read, and
// bounds the Docker API calls a step costs.
func TestGraderOnlyReadsAndCountsCalls(t *testing.T) {
	l, oldImg, img := appLab(t)
	l.holdPort8000()
	multi := l.build(imageSpec{tag: "django-app-" + l.id + ":slim", multi: true, lines: []string{`LABEL workshop.lab="django-app" workshop.lab.build="multi-stage"`, appCmd}})
	ids := []string{}
	for _, r := range []runSpec{
		{image: img, ports: []string{"8000:8000"}, tty: true, stdin: true},
		{image: oldImg, env: []string{"LAB_MODE=crash"}},
		{image: multi, env: []string{"LAB_MODE=crash"}},
		{image: img, env: []string{"LAB_MODE=sleep"}},
	} {
		id, err := l.run(r)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	l.waitState(ids[1], container.StateExited)
	tg := l.target()
	tg.AppURL = "http://127.0.0.1:8000/"

	all := dockerChecks
	g := l.grader(Options{})
	l.calls.Store(0)
	rs := g.RunStep(context.Background(), "", tg, all)
	for _, r := range rs {
		if r.Status == StatusError {
			t.Errorf("%s: error %q %v", r.CheckID, r.Summary, r.Evidence)
		}
	}
	if len(l.writes) > 0 {
		t.Errorf("the grader attempted calls that are not reads: %v", l.writes)
	}
	// ping, version, container list, image list, network list, at most one
	// inspect per container and image, and logs of the two crashed ones.
	if n, max := l.calls.Load(), int64(5+4+3+2+2); n > max {
		t.Errorf("all Docker checks cost %d API calls, want at most %d", n, max)
	}
	t.Logf("all %d Docker checks together: %d API calls", len(all), l.calls.Load())

	steps := map[string][]string{
		"build-image":        {"docker-reachable", "app-image-built"},
		"stop-old-container": {"old-container-removed", "port-8000-single-owner"},
		"publish-port":       {"port-8000-published"},
	}
	for step, checks := range steps {
		l.calls.Store(0)
		g.RunStep(context.Background(), "", tg, checks)
		if n := l.calls.Load(); n > 8 {
			t.Errorf("step %s cost %d Docker API calls, want at most 8", step, n)
		}
	}

	// The grader's own transport refuses writes even if a check tried one.
	d, err := newDockerConn(tg.Docker, Policy{AllowPlainDocker: true, AllowLoopback: true}, &Guard{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cli.ContainerStop(context.Background(), ids[0], container.StopOptions{}); err == nil || !strings.Contains(err.Error(), "not a read") {
		t.Errorf("ContainerStop through the grader's client: err = %v", err)
	}
	if _, err := d.cli.ContainerInspect(context.Background(), ids[0]); err != nil {
		t.Errorf("a read through the grader's client failed: %v", err)
	}
}
