package grader

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"

	"github.com/coursekit/workshop/internal/testenv"
)

// fakeAppSource imitates the lab's Django app closely enough for the
// checks: the page with the marker, ALLOWED_HOSTS from the environment
// (400 otherwise), and the crash of the broken multi-stage build.
const fakeAppSource = `package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	switch os.Getenv("LAB_MODE") {
	case "crash":
		fmt.Fprintln(os.Stderr, "Traceback (most recent call last):")
		fmt.Fprintln(os.Stderr, "  File \"/app/manage.py\", line 11, in main")
		fmt.Fprintln(os.Stderr, "ModuleNotFoundError: No module named 'django'")
		os.Exit(1)
	case "sleep":
		time.Sleep(time.Hour)
		return
	}
	allowed := os.Getenv("DJANGO_ALLOWED_HOSTS")
	if allowed == "" {
		allowed = "localhost,127.0.0.1"
	}
	fmt.Println("Starting development server at http://0.0.0.0:8000/")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		ok := false
		for _, a := range strings.Split(allowed, ",") {
			if a == "*" || a == host {
				ok = true
			}
		}
		if !ok {
			fmt.Printf("Invalid HTTP_HOST header: %q. You may need to add it to ALLOWED_HOSTS.\n", host)
			http.Error(w, "<h1>Bad Request (400)</h1>", 400)
			return
		}
		switch os.Getenv("LAB_MODE") {
		case "error":
			http.Error(w, "<h1>Server Error (500)</h1>", 500)
		case "other":
			fmt.Fprint(w, "<html><title>Welcome to nginx!</title></html>")
		default:
			fmt.Fprint(w, "<html><head><title>Workshop lab app</title><meta name=\"workshop-lab\" content=\"django-app\"></head><body>Workshop lab app</body></html>")
		}
	})
	if err := http.ListenAndServe("0.0.0.0:8000", nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
`

var (
	fakeAppOnce sync.Once
	fakeAppBin  []byte
	fakeAppErr  error
)

// fakeApp compiles the imitation app as a static binary, once per test run.
func fakeApp(t *testing.T) []byte {
	t.Helper()
	fakeAppOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fakeapp")
		if err != nil {
			fakeAppErr = err
			return
		}
		defer os.RemoveAll(dir)
		src := filepath.Join(dir, "main.go")
		if fakeAppErr = os.WriteFile(src, []byte(fakeAppSource), 0o644); fakeAppErr != nil {
			return
		}
		out := filepath.Join(dir, "app")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, src)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
		if b, err := cmd.CombinedOutput(); err != nil {
			fakeAppErr = fmt.Errorf("build fake app: %v\n%s", err, b)
			return
		}
		fakeAppBin, fakeAppErr = os.ReadFile(out)
	})
	if fakeAppErr != nil {
		t.Fatal(fakeAppErr)
	}
	return fakeAppBin
}

// engine connects to the local Docker engine, or skips (fails under CI).
func engine(t *testing.T) *client.Client {
	t.Helper()
	return testenv.Docker(t)
}

// lab is one test's private corner of the shared engine: everything it
// builds carries its scope label, and the grader only sees that label.
type lab struct {
	t     *testing.T
	cli   *client.Client
	scope string // "workshop.test.scope=<random>"
	id    string
	calls atomic.Int64
	// writes records every non-read call the grader attempted.
	mu     sync.Mutex
	writes []string
}

func newLab(t *testing.T) *lab {
	t.Helper()
	cli := engine(t)
	b := make([]byte, 6)
	rand.Read(b)
	id := hex.EncodeToString(b)
	l := &lab{t: t, cli: cli, id: id, scope: "workshop.test.scope=" + id}
	t.Cleanup(l.cleanup)
	return l
}

func (l *lab) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	l.t.Cleanup(cancel)
	return ctx
}

func (l *lab) filter() filters.Args { return filters.NewArgs(filters.Arg("label", l.scope)) }

func (l *lab) cleanup() {
	ctx := context.Background()
	cs, _ := l.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: l.filter()})
	for _, c := range cs {
		_ = l.cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
	}
	ns, _ := l.cli.NetworkList(ctx, network.ListOptions{Filters: l.filter()})
	for _, n := range ns {
		_ = l.cli.NetworkRemove(ctx, n.ID)
	}
	ims, _ := l.cli.ImageList(ctx, image.ListOptions{All: true, Filters: l.filter()})
	for _, im := range ims {
		_, _ = l.cli.ImageRemove(ctx, im.ID, image.RemoveOptions{Force: true, PruneChildren: true})
	}
}

// imageSpec describes one test image; Dockerfile lines do the labelling,
// as the lab's Dockerfiles do.
type imageSpec struct {
	tag    string // "" leaves it <none>
	lines  []string
	pad    int // bytes of filler, to make a "single-stage" image bigger
	multi  bool
	suffix string // makes otherwise equal images differ
	from   string // builds FROM this image instead, adding only lines
}

// build builds an image FROM scratch with the fake app at /app.
func (l *lab) build(s imageSpec) string {
	l.t.Helper()
	var df strings.Builder
	if s.from != "" {
		df.WriteString("FROM " + s.from + "\n")
	} else if s.multi {
		df.WriteString("FROM scratch AS builder\nCOPY app /app\nCOPY pad /pad\nFROM scratch\nCOPY --from=builder /app /app\n")
	} else {
		df.WriteString("FROM scratch\nCOPY app /app\n")
		if s.pad > 0 {
			df.WriteString("COPY pad /pad\n")
		}
	}
	fmt.Fprintf(&df, "LABEL workshop.test.scope=%s workshop.test.variant=%q\n", l.id, s.suffix)
	for _, line := range s.lines {
		df.WriteString(line + "\n")
	}
	pad := s.pad
	if pad == 0 {
		pad = 1
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, data []byte, mode int64) {
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(data)), ModTime: time.Unix(0, 0)})
		_, _ = tw.Write(data)
	}
	add("Dockerfile", []byte(df.String()), 0o644)
	add("app", fakeApp(l.t), 0o755)
	padding := make([]byte, pad)
	rand.Read(padding)
	add("pad", padding, 0o644)
	tw.Close()
	var tags []string
	if s.tag != "" {
		tags = []string{s.tag}
	}
	resp, err := l.cli.ImageBuild(l.ctx(), &buf, build.ImageBuildOptions{Tags: tags, Remove: true, ForceRemove: true, NoCache: true, Version: build.BuilderV1})
	if err != nil {
		l.t.Fatalf("build: %v", err)
	}
	defer resp.Body.Close()
	var id string
	dec := json.NewDecoder(resp.Body)
	for {
		var m struct {
			Aux         struct{ ID string }
			Error       string
			ErrorDetail struct{ Message string }
		}
		if err := dec.Decode(&m); err != nil {
			break
		}
		if m.Error != "" {
			l.t.Fatalf("build failed: %s\n%s", m.Error, df.String())
		}
		if m.Aux.ID != "" {
			id = m.Aux.ID
		}
	}
	if id == "" {
		l.t.Fatalf("build gave no image id")
	}
	return id
}

// runSpec is one docker run the test makes to create a near-miss state.
type runSpec struct {
	image   string
	name    string
	ports   []string // "8000:8000", "127.0.0.1:8000:8000", "8000", "18080:8000"
	env     []string
	tty     bool
	stdin   bool
	restart string
	network string
	noStart bool
}

// run creates (and starts) a container; a start error is returned, as a
// failed docker run would print it.
func (l *lab) run(r runSpec) (string, error) {
	l.t.Helper()
	exposed, bindings, err := nat.ParsePortSpecs(r.ports)
	if err != nil {
		l.t.Fatal(err)
	}
	hc := &container.HostConfig{PortBindings: bindings, NetworkMode: container.NetworkMode(r.network)}
	if r.restart != "" {
		hc.RestartPolicy = container.RestartPolicy{Name: container.RestartPolicyMode(r.restart)}
	}
	name := ""
	if r.name != "" {
		name = r.name + "-" + l.id
	}
	created, err := l.cli.ContainerCreate(l.ctx(), &container.Config{
		Image: r.image, Env: r.env, Tty: r.tty, OpenStdin: r.stdin, AttachStdin: r.stdin,
		ExposedPorts: exposed, Labels: map[string]string{"workshop.test.scope": l.id},
	}, hc, nil, nil, name)
	if err != nil {
		l.t.Fatalf("create: %v", err)
	}
	if r.noStart {
		return created.ID, nil
	}
	return created.ID, l.cli.ContainerStart(l.ctx(), created.ID, container.StartOptions{})
}

// waitState waits until a container reaches one of the states.
func (l *lab) waitState(id string, states ...container.ContainerState) {
	l.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ci, err := l.cli.ContainerInspect(l.ctx(), id)
		if err == nil {
			for _, s := range states {
				if ci.State.Status == s {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	l.t.Fatalf("container %s never reached %v", short(id), states)
}

func (l *lab) remove(ids ...string) {
	for _, id := range ids {
		_ = l.cli.ContainerRemove(context.Background(), id, container.RemoveOptions{Force: true})
	}
}

// grader returns a Grader that sees only this lab, counts the Docker API
// calls and records any call that is not a read, before the grader's own
// read-only transport could refuse it.
func (l *lab) grader(o Options) *Grader {
	o.WrapDockerTransport = func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			l.calls.Add(1)
			p := req.URL.Path
			if (req.Method != http.MethodGet && req.Method != http.MethodHead) ||
				strings.Contains(p, "/attach") || strings.Contains(p, "/exec") || strings.Contains(p, "/export") || strings.HasSuffix(p, "/get") {
				l.mu.Lock()
				l.writes = append(l.writes, req.Method+" "+p)
				l.mu.Unlock()
				return nil, fmt.Errorf("test transport: %s %s is not a read", req.Method, p)
			}
			return next.RoundTrip(req)
		})
	}
	g := New(Policy{AllowPlainDocker: true, AllowLoopback: true, AllowPrivate: true}, o)
	g.scope = l.scope
	return g
}

func (l *lab) target() Target {
	host := os.Getenv("DOCKER_HOST")
	if host == "" {
		host = client.DefaultDockerHost
	}
	return Target{Docker: DockerTarget{Endpoint: host}}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// check runs one check and returns its result.
func (l *lab) check(g *Grader, t Target, id string) Result {
	l.t.Helper()
	rs := g.RunStep(l.ctx(), "", t, []string{id})
	return rs[0]
}

// expect asserts a result's status, kind and that the hint names the fix.
func expect(t *testing.T, r Result, status Status, kind, hintHas string) {
	t.Helper()
	if r.Status != status || r.Kind != kind || !strings.Contains(r.Hint, hintHas) {
		t.Errorf("%s: got %s/%q %q hint %q\nevidence: %s\nwant %s/%q with hint containing %q",
			r.CheckID, r.Status, r.Kind, r.Summary, r.Hint, strings.Join(r.Evidence, " | "), status, kind, hintHas)
	}
}

// holdPort8000 serialises the tests that publish host port 8000 (test
// processes of several packages may share this engine) and waits until no
// other container holds it.
func (l *lab) holdPort8000() {
	l.t.Helper()
	testenv.LockHostPort(l.t, 8000)
	// Registered after the lock (cleanups run last in, first out), so the
	// lock outlives the test's containers.
	l.t.Cleanup(l.cleanup)
	deadline := time.Now().Add(90 * time.Second)
	for {
		cs, err := l.cli.ContainerList(context.Background(), container.ListOptions{Filters: filters.NewArgs(filters.Arg("publish", "8000"))})
		if err == nil && len(cs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("host port 8000 stays taken by %s", cname(cs[0]))
		}
		time.Sleep(500 * time.Millisecond)
	}
}
