package content

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coursekit/workshop/internal/testenv"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-connections/nat"
)

// dockerClient connects to the test engine, or skips (fails under CI).
func dockerClient(t *testing.T) *client.Client {
	t.Helper()
	// Waits while the course's end-to-end test has the engine to itself:
	// this test's lab images would otherwise show up in its checks.
	cli := testenv.Docker(t)
	for _, base := range []string{"python:3.13-slim", "python:3.13"} {
		if _, err := cli.ImageInspect(context.Background(), base); err != nil {
			testenv.Require(t, "docker", fmt.Errorf("base image %s missing (run .ci/django-base.sh): %w", base, err))
		}
	}
	return cli
}

// buildContext tars a folder of the lab, plus extra files, in memory.
func buildContext(t *testing.T, dir string, extra map[string][]byte) io.Reader {
	t.Helper()
	app, err := fs.Sub(labFS(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, data []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	err = fs.WalkDir(app, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(app, p)
		if err != nil {
			return err
		}
		add(p, data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range extra {
		add(name, data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

// stageImages finds the image ids in a classic build's output (" ---> id").
var stageImages = regexp.MustCompile(`(?m)^ ---> ([0-9a-f]{12})\s*$`)

// buildImage builds an image from a folder of the lab with the given
// Dockerfile, removes it when the test ends, and returns its inspection.
func buildImage(t *testing.T, cli *client.Client, dir, dockerfile string, extra map[string][]byte) image.InspectResponse {
	t.Helper()
	ctx := context.Background()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	tag := "workshop-labtest:" + hex.EncodeToString(suffix)
	resp, err := cli.ImageBuild(ctx, buildContext(t, dir, extra), build.ImageBuildOptions{
		Tags: []string{tag}, Dockerfile: dockerfile, Remove: true, ForceRemove: true,
		Version: build.BuilderV1, // the API's builder; BuildKit needs a session
		// Without the cache every stage image in this build's log is its
		// own, so the clean-up below never removes a layer that another
		// test's build (in another package, at the same time) still uses.
		NoCache: true,
	})
	if err != nil {
		t.Fatalf("build %s: %v", dockerfile, err)
	}
	defer resp.Body.Close()
	var log strings.Builder
	t.Cleanup(func() {
		ctx := context.Background()
		_, _ = cli.ImageRemove(ctx, tag, image.RemoveOptions{Force: true, PruneChildren: true})
		// The classic builder keeps each build stage's image, untagged: remove
		// those this build made, never a tagged one (the base images).
		for _, id := range stageImages.FindAllStringSubmatch(log.String(), -1) {
			if img, err := cli.ImageInspect(ctx, id[1]); err == nil && len(img.RepoTags) == 0 {
				_, _ = cli.ImageRemove(ctx, id[1], image.RemoveOptions{PruneChildren: true})
			}
		}
	})
	// The build's progress is a stream of JSON messages; a failed step
	// sends one with an error.
	dec := json.NewDecoder(resp.Body)
	for {
		var msg struct {
			Stream string `json:"stream"`
			Error  string `json:"error"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("build %s: read progress: %v", dockerfile, err)
		}
		log.WriteString(msg.Stream)
		if msg.Error != "" {
			t.Fatalf("build %s: %s\n%s", dockerfile, msg.Error, log.String())
		}
	}
	img, err := cli.ImageInspect(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// runImage starts a container with port 8000 published on a random port of
// 127.0.0.1, removes it when the test ends, and returns its id and address.
func runImage(t *testing.T, cli *client.Client, ref string) (id, addr string) {
	t.Helper()
	ctx := context.Background()
	created, err := cli.ContainerCreate(ctx,
		&container.Config{Image: ref, ExposedPorts: nat.PortSet{"8000/tcp": {}}},
		&container.HostConfig{PortBindings: nat.PortMap{"8000/tcp": {{HostIP: "127.0.0.1", HostPort: ""}}}},
		nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cli.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
	})
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	info, err := cli.ContainerInspect(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if info.NetworkSettings == nil || len(info.NetworkSettings.Ports["8000/tcp"]) == 0 {
		return created.ID, ""
	}
	b := info.NetworkSettings.Ports["8000/tcp"][0]
	return created.ID, b.HostIP + ":" + b.HostPort
}

// containerLogs returns the container's stdout and stderr.
func containerLogs(t *testing.T, cli *client.Client, id string) string {
	t.Helper()
	rc, err := cli.ContainerLogs(context.Background(), id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var out bytes.Buffer
	_, _ = stdcopy.StdCopy(&out, &out, rc)
	return out.String()
}

// get fetches http://addr/ with the given Host header, retrying while the
// app starts.
func get(t *testing.T, cli *client.Client, id, addr, host string) (int, string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET http://%s/: %v\ncontainer logs:\n%s", addr, err, containerLogs(t, cli, id))
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// TestLabAppInDocker builds the lab's Django app with both Dockerfiles and
// checks that it answers on port 8000 and refuses unknown hosts.
func TestLabAppInDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("builds images")
	}
	cli := dockerClient(t)
	sizes := map[string]int64{}
	for _, tt := range []struct{ dockerfile, build string }{
		{"Dockerfile", "single-stage"},
		{"Dockerfile.multistage", "multi-stage"},
	} {
		t.Run(tt.dockerfile, func(t *testing.T) {
			img := buildImage(t, cli, "django-app", tt.dockerfile, nil)
			labels := img.Config.Labels
			if labels["workshop.lab"] != "django-app" || labels["workshop.lab.build"] != tt.build {
				t.Errorf("labels = %v, want workshop.lab=django-app workshop.lab.build=%s", labels, tt.build)
			}
			sizes[tt.build] = img.Size
			t.Logf("%s: image size %d MB", tt.dockerfile, img.Size>>20)
			id, addr := runImage(t, cli, img.ID)
			if addr == "" {
				t.Fatalf("port 8000 not published; logs:\n%s", containerLogs(t, cli, id))
			}
			code, body := get(t, cli, id, addr, "127.0.0.1")
			if code != http.StatusOK || !strings.Contains(body, "Workshop lab app") ||
				!strings.Contains(body, `<meta name="workshop-lab" content="django-app">`) {
				t.Errorf("GET / with Host 127.0.0.1 = %d\n%s\nlogs:\n%s", code, body, containerLogs(t, cli, id))
			}
			// A host that is not in DJANGO_ALLOWED_HOSTS: the 400 the course teaches to fix.
			if code, body := get(t, cli, id, addr, "203.0.113.5"); code != http.StatusBadRequest {
				t.Errorf("GET / with Host 203.0.113.5 = %d, want 400\n%s", code, body)
			}
			// The course tells students to read the fix in the container's log.
			deadline := time.Now().Add(10 * time.Second)
			for logs := ""; !strings.Contains(logs, "Invalid HTTP_HOST header: '203.0.113.5'"); logs = containerLogs(t, cli, id) {
				if time.Now().After(deadline) {
					t.Errorf("logs do not explain the 400:\n%s", logs)
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
		})
	}
	if s, m := sizes["single-stage"], sizes["multi-stage"]; s > 0 && m > 0 && m >= s {
		t.Errorf("multi-stage image (%d bytes) is not smaller than the single-stage image (%d bytes)", m, s)
	}
}

// TestGuideMultiStageBugInDocker shows the original guide's multi-stage
// Dockerfile really is broken: its container dies without Django.
func TestGuideMultiStageBugInDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("builds images")
	}
	cli := dockerClient(t)
	dockerfile, err := os.ReadFile("testdata/Dockerfile.guide-multistage")
	if err != nil {
		t.Fatal(err)
	}
	img := buildImage(t, cli, "django-app", "Dockerfile.guide", map[string][]byte{"Dockerfile.guide": dockerfile})
	id, _ := runImage(t, cli, img.ID)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	waitC, errC := cli.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	select {
	case w := <-waitC:
		if w.StatusCode == 0 {
			t.Errorf("container exited with status 0, want a failure")
		}
	case err := <-errC:
		t.Fatalf("wait: %v", err)
	}
	if logs := containerLogs(t, cli, id); !strings.Contains(logs, "No module named 'django'") {
		t.Errorf("logs do not say No module named 'django':\n%s", logs)
	}
}

// TestStaticSiteInDocker builds the distractor: the grader tells it apart
// by its label, and it serves a page without Django.
func TestStaticSiteInDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("builds images")
	}
	cli := dockerClient(t)
	img := buildImage(t, cli, "static-site", "Dockerfile", nil)
	if got := img.Config.Labels["workshop.lab"]; got != "static-site" {
		t.Errorf("label workshop.lab = %q, want static-site", got)
	}
	id, addr := runImage(t, cli, img.ID)
	if addr == "" {
		t.Fatalf("port 8000 not published; logs:\n%s", containerLogs(t, cli, id))
	}
	code, body := get(t, cli, id, addr, "203.0.113.5")
	if code != http.StatusOK || !strings.Contains(body, `content="static-site"`) || strings.Contains(body, "Workshop lab app") {
		t.Errorf("GET / = %d\n%s", code, body)
	}
}
