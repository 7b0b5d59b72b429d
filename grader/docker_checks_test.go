package grader

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
)

const (
	appLabels    = `LABEL workshop.lab="django-app" workshop.lab.build="single-stage"`
	appCmd       = `CMD ["/app", "manage.py", "runserver", "0.0.0.0:8000"]`
	staticLabels = `LABEL workshop.lab="static-site"`
)

func TestImageChecks(t *testing.T) {
	t.Run("nothing built", func(t *testing.T) {
		l := newLab(t)
		g := l.grader(Options{})
		expect(t, l.check(g, l.target(), "app-image-built"), StatusFail, KindNoImage, "docker build -t")
	})
	t.Run("built from the wrong folder", func(t *testing.T) {
		l := newLab(t)
		l.build(imageSpec{tag: "site-" + l.id, lines: []string{staticLabels, `CMD ["/app"]`}})
		g := l.grader(Options{})
		expect(t, l.check(g, l.target(), "app-image-built"), StatusFail, KindWrongFolder, "cd django-app")
		expect(t, l.check(g, l.target(), "app-image-tagged"), StatusFail, KindWrongFolder, "cd django-app")
	})
	t.Run("untagged", func(t *testing.T) {
		l := newLab(t)
		l.build(imageSpec{lines: []string{appLabels, appCmd}})
		g := l.grader(Options{})
		expect(t, l.check(g, l.target(), "app-image-built"), StatusWarn, KindUntagged, "-t django-app")
		expect(t, l.check(g, l.target(), "app-image-tagged"), StatusFail, KindUntagged, "docker tag")
	})
	t.Run("tagged", func(t *testing.T) {
		l := newLab(t)
		l.build(imageSpec{tag: "django-app-" + l.id, lines: []string{appLabels, appCmd}})
		g := l.grader(Options{})
		r := l.check(g, l.target(), "app-image-built")
		expect(t, r, StatusPass, "", "")
		if !strings.Contains(r.Summary, "django-app-"+l.id) {
			t.Errorf("summary %q does not name the image", r.Summary)
		}
		expect(t, l.check(g, l.target(), "app-image-tagged"), StatusPass, "", "")
	})
	t.Run("recognised by its command", func(t *testing.T) {
		l := newLab(t)
		l.build(imageSpec{tag: "mine-" + l.id, lines: []string{`CMD ["/app", "gunicorn", "hello.wsgi:application"]`}})
		g := l.grader(Options{})
		r := l.check(g, l.target(), "app-image-built")
		expect(t, r, StatusPass, "", "")
		if !strings.Contains(strings.Join(r.Evidence, "\n"), "gunicorn") {
			t.Errorf("evidence does not say how it was recognised: %v", r.Evidence)
		}
	})
	t.Run("entrypoint and cmd", func(t *testing.T) {
		l := newLab(t)
		l.build(imageSpec{tag: "cmdonly-" + l.id, lines: []string{appLabels, appCmd}})
		g := l.grader(Options{})
		expect(t, l.check(g, l.target(), "image-entrypoint-and-cmd"), StatusFail, KindCmdOnly, "ENTRYPOINT")
		l.build(imageSpec{tag: "entry-" + l.id, suffix: "entry", lines: []string{appLabels, `ENTRYPOINT ["/app", "manage.py"]`, `CMD ["runserver", "0.0.0.0:8000"]`}})
		g = l.grader(Options{})
		expect(t, l.check(g, l.target(), "image-entrypoint-and-cmd"), StatusPass, "", "")
	})
}

// appLab builds an older and a newer image of the app in one lab.
func appLab(t *testing.T) (l *lab, oldImg, newImg string) {
	l = newLab(t)
	// A rebuild after a change to the app's files: each carries a file of
	// its own, so their layers differ.
	oldImg = l.build(imageSpec{tag: "django-app-" + l.id + ":v1", suffix: "v1", pad: 1, lines: []string{appLabels, appCmd}})
	newImg = l.build(imageSpec{tag: "django-app-" + l.id + ":v2", suffix: "v2", pad: 1, lines: []string{appLabels, appCmd}})
	return l, oldImg, newImg
}

func TestContainerChecks(t *testing.T) {
	l, oldImg, newImg := appLab(t)
	l.holdPort8000()
	tg := l.target()
	t.Run("interactive", func(t *testing.T) {
		expect(t, l.check(l.grader(Options{}), tg, "app-container-interactive"), StatusFail, KindNoContainer, "docker run -it")
		id, _ := l.run(runSpec{image: newImg, env: []string{"LAB_MODE=sleep"}})
		expect(t, l.check(l.grader(Options{}), tg, "app-container-interactive"), StatusFail, KindNotInteractive, "docker run -it")
		l.remove(id)
		id, _ = l.run(runSpec{image: newImg, stdin: true, env: []string{"LAB_MODE=sleep"}})
		expect(t, l.check(l.grader(Options{}), tg, "app-container-interactive"), StatusFail, KindMissingTTY, "-it")
		l.remove(id)
		id, _ = l.run(runSpec{image: newImg, stdin: true, tty: true, env: []string{"LAB_MODE=sleep"}})
		l.cli.ContainerStop(l.ctx(), id, container.StopOptions{})
		// Exited or not, the container was run with -it.
		expect(t, l.check(l.grader(Options{}), tg, "app-container-interactive"), StatusPass, "", "")
		l.remove(id)
	})
	t.Run("old container", func(t *testing.T) {
		old, _ := l.run(runSpec{image: oldImg, name: "old", env: []string{"LAB_MODE=sleep"}})
		cur, _ := l.run(runSpec{image: newImg, name: "new", env: []string{"LAB_MODE=sleep"}})
		expect(t, l.check(l.grader(Options{}), tg, "old-container-removed"), StatusFail, KindOldContainerRunning, "docker stop old-"+l.id)
		l.cli.ContainerStop(l.ctx(), old, container.StopOptions{})
		expect(t, l.check(l.grader(Options{}), tg, "old-container-removed"), StatusWarn, KindExitedLeftovers, "docker rm")
		l.remove(old)
		expect(t, l.check(l.grader(Options{}), tg, "old-container-removed"), StatusPass, "", "")
		// An image built FROM the app's image that only changes how it
		// starts (the entrypoint topic's) is not a newer build of the app.
		l.build(imageSpec{from: newImg, tag: "django-app-" + l.id + ":entrypoint", suffix: "entrypoint",
			lines: []string{`ENTRYPOINT ["/app", "manage.py"]`, `CMD ["runserver", "0.0.0.0:8000"]`}})
		expect(t, l.check(l.grader(Options{}), tg, "old-container-removed"), StatusPass, "", "")
		l.remove(cur)
	})
	t.Run("port 8000 owners", func(t *testing.T) {
		expect(t, l.check(l.grader(Options{}), tg, "port-8000-single-owner"), StatusPass, "", "")
		first, err := l.run(runSpec{image: oldImg, name: "holder", ports: []string{"8000:8000"}})
		if err != nil {
			t.Fatalf("host port 8000 is busy on this machine: %v", err)
		}
		expect(t, l.check(l.grader(Options{}), tg, "port-8000-single-owner"), StatusPass, "", "")
		second, err := l.run(runSpec{image: newImg, name: "second", ports: []string{"8000:8000"}})
		if err == nil || !strings.Contains(err.Error(), "allocated") {
			t.Logf("second run on port 8000: %v", err)
		}
		expect(t, l.check(l.grader(Options{}), tg, "port-8000-single-owner"), StatusFail, KindPortAllocated, "docker stop holder-"+l.id)
		l.remove(first)
		expect(t, l.check(l.grader(Options{}), tg, "port-8000-single-owner"), StatusFail, KindPortAllocated, "docker rm second-"+l.id)
		third, err := l.run(runSpec{image: newImg, name: "third", ports: []string{"8000:8000"}})
		if err != nil {
			t.Fatal(err)
		}
		expect(t, l.check(l.grader(Options{}), tg, "port-8000-single-owner"), StatusWarn, KindFailedAttempt, "docker rm second-"+l.id)
		l.remove(second, third)
	})
}

// freeHostPort is a host port nothing listens on right now (a fixed one
// may belong to another program on a shared machine).
func freeHostPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

func TestPortPublished(t *testing.T) {
	l, _, img := appLab(t)
	l.holdPort8000()
	tg := l.target()
	tests := []struct {
		name    string
		run     runSpec
		status  Status
		kind    string
		hintHas string
	}{
		{"no -p", runSpec{}, StatusFail, KindNotPublished, "-p 8000:8000"},
		{"-p 8000", runSpec{ports: []string{"8000"}}, StatusFail, KindRandomHostPort, "-p 8000:8000"},
		{"loopback", runSpec{ports: []string{"127.0.0.1:8000:8000"}}, StatusFail, KindBoundToLoopback, "without 127.0.0.1"},
		{"wrong host port", runSpec{ports: []string{freeHostPort(t) + ":8000"}}, StatusFail, KindWrongHostPort, "-p 8000:8000"},
		{"wrong container port", runSpec{ports: []string{"8000:80"}}, StatusFail, KindWrongContainerPort, "listens on 8000"},
		{"exited", runSpec{env: []string{"LAB_MODE=crash"}, ports: []string{"8000:8000"}}, StatusFail, KindContainerExited, "docker run -d --name web -p 8000:8000"},
		{"restarting", runSpec{env: []string{"LAB_MODE=crash"}, restart: "always"}, StatusFail, KindRestarting, "docker logs"},
		{"right", runSpec{ports: []string{"8000:8000"}}, StatusPass, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run.image = img
			id, err := l.run(tt.run)
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			defer l.remove(id)
			switch tt.kind {
			case KindContainerExited:
				l.waitState(id, container.StateExited)
			case KindRestarting:
				l.waitState(id, container.StateRestarting)
			default:
				l.waitState(id, container.StateRunning)
			}
			r := l.check(l.grader(Options{}), tg, "port-8000-published")
			expect(t, r, tt.status, tt.kind, tt.hintHas)
			if tt.kind == KindContainerExited && !strings.Contains(strings.Join(r.Evidence, "\n"), "No module named 'django'") {
				t.Errorf("evidence lacks the log: %v", r.Evidence)
			}
		})
	}
}
