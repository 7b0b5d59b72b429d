package grader

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
)

// labDir is the lab's Django app, as students clone it.
const labDir = "../content/lab/django-app"

// brokenMultistage is the guide's multi-stage example brought to the
// course's images: the runtime stage copies /app but not the packages pip
// installed, so the container dies with "No module named 'django'".
const brokenMultistage = `FROM python:3.13 AS builder
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .

FROM python:3.13-slim
WORKDIR /app
COPY --from=builder /app /app
LABEL workshop.lab="django-app" workshop.lab.build="multi-stage"
CMD ["python3", "manage.py", "runserver", "0.0.0.0:8000"]
`

// buildLab builds the lab folder with one of its Dockerfiles (or extra,
// written into the context), adding only the test's scope label.
func (l *lab) buildLab(tag, dockerfile, extra string) string {
	l.t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(labDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, "__pycache__") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(labDir, p)
		mode := int64(0o644)
		if info, _ := d.Info(); info != nil && info.Mode()&0o111 != 0 {
			mode = 0o755
		}
		_ = tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: mode, Size: int64(len(b))})
		_, err = tw.Write(b)
		return err
	})
	if err != nil {
		l.t.Fatal(err)
	}
	if extra != "" {
		_ = tw.WriteHeader(&tar.Header{Name: dockerfile, Mode: 0o644, Size: int64(len(extra))})
		_, _ = tw.Write([]byte(extra))
	}
	tw.Close()
	resp, err := l.cli.ImageBuild(l.ctx(), &buf, build.ImageBuildOptions{
		Tags: []string{tag}, Dockerfile: dockerfile, Remove: true, ForceRemove: true, Version: build.BuilderV1,
		// Other packages build the same lab on this engine and clean up after
		// themselves: sharing their cached layers would race with that.
		NoCache: true,
		Labels:  map[string]string{"workshop.test.scope": l.id},
	})
	if err != nil {
		l.t.Fatalf("build %s: %v", dockerfile, err)
	}
	defer resp.Body.Close()
	var id string
	var log strings.Builder
	dec := json.NewDecoder(resp.Body)
	for {
		var m struct {
			Stream, Error string
			Aux           struct{ ID string }
		}
		if err := dec.Decode(&m); err != nil {
			break
		}
		log.WriteString(m.Stream)
		if m.Error != "" {
			l.t.Fatalf("build %s: %s\n%s", dockerfile, m.Error, log.String())
		}
		if m.Aux.ID != "" {
			id = m.Aux.ID
		}
	}
	if id == "" {
		l.t.Fatalf("build %s gave no image\n%s", dockerfile, log.String())
	}
	return id
}

// waitHTTP waits until the app answers anything at all.
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	c := &http.Client{Timeout: time.Second}
	for i := 0; i < 100; i++ {
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s never answered", url)
}

// TestRealDjangoLab builds the lab's real Django app on the local Python
// images and runs the course's path through it, and the guide's broken
// multi-stage build.
func TestRealDjangoLab(t *testing.T) {
	if _, err := os.Stat(filepath.Join(labDir, "Dockerfile")); err != nil {
		t.Skipf("the lab app is not in this tree: %v", err)
	}
	l := newLab(t)
	if _, err := l.cli.ImageInspect(l.ctx(), "python:3.13-slim"); err != nil {
		if testenvInCI() {
			t.Fatalf("python:3.13-slim missing; .ci/docker.sh builds it: %v", err)
		}
		t.Skipf("python:3.13-slim missing (run .ci/django-base.sh): %v", err)
	}
	tag := "django-app-" + l.id
	single := l.buildLab(tag, "Dockerfile", "")
	slim := l.buildLab(tag+":slim", "Dockerfile.multistage", "")
	broken := l.buildLab(tag+":broken", "Dockerfile.broken", brokenMultistage)
	l.holdPort8000()
	tg := l.target()
	g := l.grader(Options{Resolver: fakeResolver{"lab.example": {"127.0.0.1"}}})
	run := func(ids ...string) []Result { return g.RunStep(l.ctx(), "", tg, ids) }

	rs := run("app-image-built", "app-image-tagged", "multi-stage-image-smaller", "image-entrypoint-and-cmd")
	expect(t, rs[0], StatusPass, "", "")
	expect(t, rs[1], StatusPass, "", "")
	expect(t, rs[2], StatusPass, "", "")
	expect(t, rs[3], StatusFail, KindCmdOnly, "ENTRYPOINT")
	t.Logf("sizes: %s", rs[2].Summary)

	id, err := l.run(runSpec{image: single, ports: []string{"8000:8000"}})
	if err != nil {
		t.Fatal(err)
	}
	waitHTTP(t, "http://127.0.0.1:8000/")
	tg.AppURL = "http://127.0.0.1:8000/"
	rs = run("port-8000-published", "app-answers-http")
	expect(t, rs[0], StatusPass, "", "")
	expect(t, rs[1], StatusPass, "", "")
	// Django's own ALLOWED_HOSTS refusal for a name it was not told about.
	tg.AppURL = "http://lab.example:8000/"
	expect(t, run("app-answers-http")[0], StatusFail, KindDisallowed, "-e DJANGO_ALLOWED_HOSTS=lab.example")
	l.remove(id)

	bad, _ := l.run(runSpec{image: broken})
	l.waitState(bad, container.StateExited)
	r := run("multi-stage-container-runs")[0]
	expect(t, r, StatusFail, KindMissingPackages, "COPY --from=builder /install /usr/local")
	if !strings.Contains(strings.Join(r.Evidence, "\n"), "No module named 'django'") {
		t.Errorf("evidence lacks Python's error: %v", r.Evidence)
	}
	good, err := l.run(runSpec{image: slim, ports: []string{"8000:8000"}})
	if err != nil {
		t.Fatal(err)
	}
	l.waitState(good, container.StateRunning)
	waitHTTP(t, "http://127.0.0.1:8000/")
	tg.AppURL = "http://127.0.0.1:8000/"
	rs = run("multi-stage-container-runs", "app-answers-http")
	expect(t, rs[0], StatusPass, "", "")
	expect(t, rs[1], StatusPass, "", "")
}

func testenvInCI() bool { v := os.Getenv("CI"); return v != "" && v != "0" && v != "false" }
