// Package e2e_test follows the whole course on a real Docker engine and
// moto's EC2, as a student would: the commands of the guided pages and of
// the advanced topics, typed as the pages write them, then "Check my work"
// for every page that has checks. Every check must pass.
package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coursekit/workshop/content"
	"github.com/coursekit/workshop/freetier"
	"github.com/coursekit/workshop/grader"
	"github.com/coursekit/workshop/grader/awstest"
	"github.com/coursekit/workshop/internal/testenv"
)

// The course server's egress address, as the target page shows it to the
// student, and the student's own ("My IP").
const (
	serverCIDR  = "203.0.113.10/32"
	studentCIDR = "198.51.100.7/32"
	// hostIP is <host_ip>: the grader reaches the instance at 127.0.0.1 here.
	hostIP = "127.0.0.1"
)

// The names the pages use; the test removes them before and after.
var (
	pageContainers = []string{"web", "web-it", "probe", "web-multi", "web-ep"}
	pageImages     = []string{"django-app:entrypoint", "django-app:multi", "django-app:broken", "django-app:latest"}
)

// checker runs "Check my work" for a page's checks against this machine's
// engine and moto.
type checker struct {
	t      *testing.T
	g      *grader.Grader
	target grader.Target
	course *content.Course
}

// check runs the checks every variant of a page declares and requires each
// to pass; it prints the results.
func (c *checker) check(kind content.Kind, id string) {
	c.t.Helper()
	var ids []string
	for _, p := range c.course.Pages() {
		if p.Kind != kind || p.ID != id {
			continue
		}
		if ids != nil && strings.Join(ids, ",") != strings.Join(p.Checks, ",") {
			c.t.Errorf("%s: the variants declare different checks: %v and %v", id, ids, p.Checks)
		}
		ids = p.Checks
	}
	if len(ids) == 0 {
		c.t.Fatalf("%s %s declares no checks", kind, id)
	}
	c.report(fmt.Sprintf("%s %s", kind, id), ids)
}

func (c *checker) report(what string, ids []string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rs := c.g.RunStep(ctx, "", c.target, ids)
	var b strings.Builder
	fmt.Fprintf(&b, "Check my work: %s", what)
	for _, r := range rs {
		fmt.Fprintf(&b, "\n  %-5s %-32s %s", r.Status, r.CheckID, r.Summary)
		if r.Status != grader.StatusPass {
			fmt.Fprintf(&b, "\n        kind %s; hint: %s\n        evidence: %s", r.Kind, r.Hint, strings.Join(r.Evidence, " | "))
			c.t.Errorf("%s: %s is %s, want pass: %s", what, r.CheckID, r.Status, r.Summary)
		}
	}
	c.t.Log(b.String())
}

// TestCourseEndToEnd is the course, start to finish, on a real engine.
func TestCourseEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the lab's images and runs the whole course")
	}
	_, err := exec.LookPath("docker")
	if err == nil {
		_, err = docker("info", "--format", "{{.ServerVersion}}")
	}
	testenv.Require(t, "Docker engine", err)
	for _, base := range []string{"python:3.13-slim", "python:3.13"} {
		if _, err := docker("image", "inspect", base); err != nil {
			testenv.Require(t, "Docker engine", fmt.Errorf("base image %s missing (run .ci/django-base.sh)", base))
		}
	}
	for _, tool := range []string{"script", "git", "curl"} {
		_, err = exec.LookPath(tool)
		testenv.Require(t, tool, err)
	}
	moto, err := awstest.Start()
	testenv.Require(t, "moto", err)
	t.Cleanup(moto.Close)

	// This test sees the engine as a student's host, whole: no other
	// test's lab images or containers may come and go meanwhile.
	testenv.OwnDockerEngine(t)
	testenv.LockHostPort(t, 8000)
	s := &student{t: t, vals: map[string]string{"<host_ip>": hostIP}, built: map[string]bool{}}
	removePageObjects(t, nil)
	t.Cleanup(func() { removePageObjects(t, s.built) })
	for _, p := range []string{"8000", "8001", "8002"} {
		if out, _ := docker("ps", "-q", "--filter", "publish="+p); out != "" {
			t.Fatalf("host port %s is taken by container %s", p, out)
		}
	}

	course, err := content.Load(content.DefaultFS(), content.Options{KnownChecks: grader.Known})
	must(t, err)
	c := &checker{t: t, course: course,
		g: grader.New(grader.Policy{AllowPlainDocker: true, AllowLoopback: true}, grader.Options{
			AWS:      grader.AWSOptions{ServerCIDRs: []netip.Prefix{netip.MustParsePrefix(serverCIDR)}},
			FreeTier: freetier.Advisor{},
		}),
		target: grader.Target{Docker: grader.DockerTarget{Endpoint: dockerHost()}, AppURL: "http://" + hostIP + ":8000"},
	}

	home := t.TempDir()
	s.dir = home
	repoURL := serveLab(t)
	oldContainer := earlierSession(t, s, home)

	// 1. Clone.
	s.open("course/steps/01-clone/guided.md")
	s.run("git clone {{lab_repo_url}} workshop-lab", "{{lab_repo_url}}", repoURL)
	s.shows(s.run("ls workshop-lab"), "README.md", "django-app", "static-site")

	// 2. Stop the old container.
	s.open("course/steps/02-stop-old-container/guided.md")
	ps := s.run("docker ps")
	ids := firstColumn(ps, "0.0.0.0:8000->8000/tcp")
	if len(ids) != 1 || !strings.HasPrefix(oldContainer, ids[0]) {
		t.Fatalf("docker ps does not show the old container %s on port 8000:\n%s", oldContainer, ps)
	}
	yesterdayImage, err := docker("inspect", "--format", "{{.Image}}", oldContainer)
	must(t, err)
	// Before any build of today, yesterday's container runs the newest
	// image there is: the grader cannot yet tell it from the student's
	// own (logged, not judged; the later checks catch what it breaks).
	for _, r := range c.g.RunStep(context.Background(), "", c.target, []string{"old-container-removed", "port-8000-single-owner"}) {
		t.Logf("before the clean-up: %s %s: %s", r.CheckID, r.Status, r.Summary)
	}
	short := ids[0][:4] // "the first three or four characters are enough"
	s.shows(s.run("docker stop <container_id>", "<container_id>", short), short)
	s.shows(s.run("docker rm <container_id>", "<container_id>", short), short)
	if strings.Contains(s.run("docker ps -a"), oldContainer[:12]) {
		t.Errorf("the old container is still listed")
	}
	c.check(content.KindStep, "stop-old-container")

	// 3. Explore the repository.
	s.open("course/steps/03-explore-repo/guided.md")
	s.run("cd workshop-lab\nls")
	s.dir = filepath.Join(home, "workshop-lab")
	s.run("cd django-app\nls -a")
	s.dir = filepath.Join(s.dir, "django-app")
	s.shows(s.run("ls -a"), ".dockerignore", "Dockerfile", "Dockerfile.multistage", "README.md", "compose.yaml", "hello", "manage.py", "requirements.txt")
	s.shows(s.run("pwd"), "workshop-lab/django-app")
	s.shows(s.run("cat Dockerfile"), "FROM python:3.13-slim")

	// 4. Build the image.
	s.open("course/steps/04-build-image/guided.md")
	untagged := column(s.run("docker build ."), 2, "Successfully built")
	tagged := s.run("docker build -t django-app .")
	s.shows(tagged, "Successfully built "+untagged, "Successfully tagged django-app:latest")
	c.check(content.KindStep, "build-image")

	// 5. List the images.
	s.open("course/steps/05-list-images/guided.md")
	images := s.run("docker images")
	imageID := column(images, 2, "django-app", "latest")
	if !strings.HasPrefix(untagged, imageID) || imageID == "" {
		t.Fatalf("docker images shows django-app:latest as %q, the build made %s:\n%s", imageID, untagged, images)
	}
	s.shows(s.run("docker image ls django-app"), "django-app", "latest", imageID)
	c.check(content.KindStep, "list-images")

	// 6. Run interactively.
	s.open("course/steps/06-run-interactive/guided.md")
	tm := s.start("docker run -it <image_id>", "<image_id>", imageID)
	tm.waitFor("Quit the server with CONTROL-C.")
	tm.typeKeys(ctrlC)
	s.shows(tm.exit(), "Starting development server at http://0.0.0.0:8000/")
	tm = s.start("docker run -it <image_id> sh", "<image_id>", imageID)
	tm.waitFor("# ")
	s.fill("pwd\nls\npython --version\npip list\nexit")
	tm.typeKeys("pwd\nls\npython --version\npip list\nexit\n")
	s.shows(tm.exit(), "/app", "manage.py", "Python 3.")
	tm = s.start("docker run -it --name web-it django-app")
	tm.waitFor("Quit the server with CONTROL-C.")
	tm.typeKeys(detach)
	tm.exit()
	tm = s.start("docker exec -it web-it sh")
	tm.waitFor("# ")
	tm.typeKeys(s.fill("tr '\\0' ' ' < /proc/1/cmdline; echo") + "\nexit\n")
	s.shows(tm.exit(), "python manage.py runserver 0.0.0.0:8000")
	s.shows(s.run("docker logs web-it"), "Starting development server")
	c.check(content.KindStep, "run-interactive")
	// The first two experiments left stopped containers behind.
	for _, id := range firstColumn(s.run("docker ps -a"), "Exited") {
		s.run("docker rm <container_id>", "<container_id>", id)
	}
	// web-it stays: "Check my work" of this step must still pass at the end.

	// 7. Publish port 8000.
	s.open("course/steps/07-publish-port/guided.md")
	tm = s.start("docker run -p 8000:8000 <image_id>", "<image_id>", imageID)
	tm.waitFor("Quit the server with CONTROL-C.")
	waitPort(t, 8000)
	s.shows(s.run("curl -i http://localhost:8000"), "HTTP/1.1 200 OK", "Workshop lab app")
	tm.waitFor(`"GET / HTTP/1.1" 200`)
	tm.typeKeys(ctrlC)
	tm.exit()
	for _, id := range firstColumn(s.run("docker ps -a"), "Exited") {
		s.run("docker rm <container_id>", "<container_id>", id)
	}
	s.run("docker run -d --name web -p 8000:8000 django-app")
	s.shows(s.run("docker ps"), "0.0.0.0:8000->8000/tcp")
	waitPort(t, 8000)
	c.check(content.KindStep, "publish-port")

	// 8. Open the app in the browser.
	s.open("course/steps/08-verify-browser/guided.md")
	s.shows(s.run("curl -i http://localhost:8000"), "HTTP/1.1 200 OK")
	// A browser on the public address: the host name Django was not told about.
	s.shows(s.simulate("curl -i -H 'Host: 203.0.113.10:8000' http://localhost:8000"), "400 Bad Request")
	s.shows(s.run("docker logs web"), "Invalid HTTP_HOST header: '203.0.113.10:8000'. You may need to add '203.0.113.10' to ALLOWED_HOSTS.", "Bad Request: /")
	s.run("docker rm -f web")
	tm = s.start("docker run --rm -p 8000:8000 -e DJANGO_ALLOWED_HOSTS=<host_ip> django-app")
	tm.waitFor("Quit the server with CONTROL-C.")
	waitPort(t, 8000)
	s.shows(s.simulate("curl -i http://<host_ip>:8000"), "HTTP/1.1 200 OK", "Workshop lab app")
	tm.typeKeys(ctrlC)
	tm.exit()
	s.run("docker run -d --name web -p 8000:8000 -e DJANGO_ALLOWED_HOSTS=<host_ip>,localhost django-app")
	waitPort(t, 8000)
	s.shows(s.run("curl -i http://localhost:8000"), "HTTP/1.1 200 OK")
	c.check(content.KindStep, "verify-browser")

	// 9. Open port 8000 in the security group (moto plays EC2).
	s.open("course/steps/09-open-security-group/guided.md")
	c.target.AWS = studentInstance(t, moto, s)
	c.check(content.KindStep, "open-security-group")

	// Topic: Docker networking.
	s.open("course/topics/docker-networking/page.md")
	s.shows(s.run("docker network ls"), "bridge", "host", "none")
	out, err := s.try(`docker run --rm django-app python -c "import urllib.request; urllib.request.urlopen('http://web:8000/')"`)
	if err == nil || !strings.Contains(out, "Name or service not known") {
		t.Errorf("on the default bridge the name web resolved, or failed otherwise: %v\n%s", err, out)
	}
	s.run("docker network create workshop-net\ndocker network ls")
	s.run("docker rm -f web\ndocker run -d --name web --network workshop-net -p 8000:8000 \\\n  -e DJANGO_ALLOWED_HOSTS=<host_ip>,localhost,web django-app")
	waitPort(t, 8000)
	probe := `docker run -d --name probe django-app sleep infinity
docker exec probe python -c "import urllib.request; print(urllib.request.urlopen('http://web:8000/').status)"`
	if out, err := s.try(probe); err == nil || !strings.Contains(out, "Name or service not known") {
		t.Errorf("probe on the default bridge reached web by name: %v\n%s", err, out)
	}
	out = s.run(`docker network connect workshop-net probe
docker exec probe python -c "import urllib.request; print(urllib.request.urlopen('http://web:8000/').status)"`)
	if strings.TrimSpace(out) != "200" {
		t.Errorf("probe on workshop-net: got %q, want 200", out)
	}
	s.shows(s.run("docker network inspect workshop-net"), `"Name": "web"`, `"Name": "probe"`)
	c.check(content.KindTopic, "docker-networking")

	// The same with Docker Compose, as the page shows it: the lab's
	// compose.yaml, then the probe's log, then the check the page says the
	// stack passes too.
	if compose := composeCommand(t); compose != "" {
		s.run(s.codeBlock("## The same with Docker Compose", "bash"), "docker compose ", compose+" ")
		deadline := time.Now().Add(2 * time.Minute)
		for out := ""; !strings.Contains(out, "probe: web answered 200"); out = s.run("docker compose logs probe", "docker compose ", compose+" ") {
			if time.Now().After(deadline) {
				t.Fatalf("the compose probe never reached web:\n%s", out)
			}
			time.Sleep(2 * time.Second)
		}
		s.shows(s.run("docker network inspect labnet"), "web", "probe")
		c.check(content.KindTopic, "docker-networking")
		s.run("docker compose down", "docker compose ", compose+" ")
		if strings.Contains(s.run("docker network ls"), "labnet") {
			t.Errorf("labnet is still there after docker compose down")
		}
		// Back to the manual setup, which the course leaves running until
		// the topic's clean-up.
		s.run("docker run -d --name web --network workshop-net -p 8000:8000 \\\n  -e DJANGO_ALLOWED_HOSTS=<host_ip>,localhost,web django-app")
		s.run("docker run -d --name probe django-app sleep infinity")
		s.run("docker network connect workshop-net probe\ndocker exec probe python -c \"import urllib.request; print(urllib.request.urlopen('http://web:8000/').status)\"")
		waitPort(t, 8000)
	}

	// Topic: multi-stage builds.
	s.open("course/topics/multi-stage-builds/page.md")
	s.writeFile("Dockerfile.broken", s.codeBlock("## A broken example", "dockerfile"))
	s.run("docker build -f Dockerfile.broken -t django-app:broken .")
	out, err = s.try("docker run --rm django-app:broken")
	if err == nil || !strings.Contains(out, "No module named 'django'") {
		t.Errorf("the broken multi-stage image did not die without Django: %v\n%s", err, out)
	}
	// The offline pip stand-in of .ci/django-base.sh knows only "install":
	// its answer is logged, not judged.
	_, _ = s.try("docker run --rm django-app:broken pip list")
	s.run("rm Dockerfile.broken")
	s.run("docker rmi django-app:broken")
	lab, err := os.ReadFile(filepath.Join(s.dir, "Dockerfile.multistage"))
	must(t, err)
	if got, want := instructions(s.codeBlock("## A working version", "dockerfile")), instructions(string(lab)); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the page's working Dockerfile differs from the lab's Dockerfile.multistage:\npage:\n%s\nlab:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	s.run("docker build -f Dockerfile.multistage -t django-app:multi .\ndocker images django-app")
	s.shows(s.run("docker images django-app"), "multi", "latest")
	s.run("docker history django-app\ndocker history django-app:multi")
	s.run("docker run -d --name web-multi -p 8001:8000 -e DJANGO_ALLOWED_HOSTS=<host_ip>,localhost django-app:multi")
	waitPort(t, 8001)
	s.shows(s.run("docker logs web-multi"), "Listening at: http://0.0.0.0:8000")
	s.shows(s.run("curl -i http://localhost:8001"), "HTTP/1.1 200 OK", "Workshop lab app")
	s.shows(s.run("docker exec web-multi id"), "uid=10001(app)")
	c.check(content.KindTopic, "multi-stage-builds")

	// Topic: ENTRYPOINT vs CMD.
	s.open("course/topics/entrypoint-vs-cmd/page.md")
	s.run(s.codeBlock("## Worked example: build it", "bash"))
	s.shows(s.run("docker inspect --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' django-app"), `null ["python","manage.py","runserver","0.0.0.0:8000"]`)
	s.shows(s.run("docker inspect --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' django-app:entrypoint"), `["python","manage.py"] ["runserver","0.0.0.0:8000"]`)
	s.run("docker run -d --name web-ep -p 8002:8000 django-app:entrypoint")
	waitPort(t, 8002)
	if out := s.run("curl -s http://localhost:8002 | grep -o 'Workshop lab app' | head -1"); strings.TrimSpace(out) != "Workshop lab app" {
		t.Errorf("web-ep: %q", out)
	}
	s.run("docker run --rm django-app:entrypoint --version")
	s.shows(s.run("docker run --rm django-app:entrypoint check"), "System check identified no issues (0 silenced).")
	tm = s.start("docker run --rm -it django-app:entrypoint sh")
	s.shows(tm.exit(), "Unknown command: 'sh'")
	tm = s.start("docker run --rm -it --entrypoint sh django-app:entrypoint")
	tm.waitFor("# ")
	tm.typeKeys("exit\n")
	tm.exit()
	s.run("docker rm -f web-ep")
	c.check(content.KindTopic, "entrypoint-vs-cmd")

	// The whole course once more, as a regrade sees the host at the end.
	for _, p := range course.Pages() {
		if len(p.Checks) > 0 {
			c.report(fmt.Sprintf("(at the end) %s %s %s", p.Kind, p.Variant, p.ID), p.Checks)
		}
	}

	// The near miss of the stop-old-container page, now that a newer
	// build exists: yesterday's build running again is diagnosed.
	again, err := docker("run", "-d", yesterdayImage)
	must(t, err)
	rs := c.g.RunStep(context.Background(), "", c.target, []string{"old-container-removed"})
	t.Logf("near miss, yesterday's build running: %s %s: %s (hint: %s)", rs[0].Status, rs[0].Kind, rs[0].Summary, rs[0].Hint)
	if rs[0].Status != grader.StatusFail || rs[0].Kind != grader.KindOldContainerRunning {
		t.Errorf("yesterday's build running: got %s/%s, want fail/%s", rs[0].Status, rs[0].Kind, grader.KindOldContainerRunning)
	}
	_, err = docker("rm", "-f", again)
	must(t, err)

	// The networking topic's clean-up, as written: the network goes, the
	// app stays reachable.
	s.open("course/topics/docker-networking/page.md")
	s.run(s.codeBlock("## Clean up", "bash"))
	if strings.Contains(s.run("docker network ls"), "workshop-net") {
		t.Errorf("workshop-net is still there after the clean-up")
	}
	waitPort(t, 8000)
	c.check(content.KindStep, "publish-port")
	c.check(content.KindStep, "verify-browser")
}

// composeCommand is how this machine runs Compose: the "docker compose"
// plugin the page teaches, or else the stand-alone Compose v1
// ("docker-compose", Debian's package), which reads the same file. Without
// either, the Compose part is skipped on a laptop and fails under CI.
func composeCommand(t *testing.T) string {
	t.Helper()
	if _, err := docker("compose", "version"); err == nil {
		return "docker compose"
	}
	_, err := exec.LookPath("docker-compose")
	if err == nil {
		t.Log("no compose plugin here: the stand-alone docker-compose (Compose v1) runs the page's compose commands")
		return "docker-compose"
	}
	why := fmt.Sprintf("neither the docker compose plugin nor docker-compose is installed (apt-get install docker-compose): %v", err)
	if testenv.InCI() {
		t.Fatal(why)
	}
	t.Log("the Compose part of the networking topic is skipped: " + why)
	return ""
}

// dockerHost is the engine the docker CLI talks to.
func dockerHost() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return "unix:///var/run/docker.sock"
}

// serveLab publishes the lab as the course server does: a bare repository
// served as static files (git's dumb HTTP protocol).
func serveLab(t *testing.T) string {
	t.Helper()
	labFS, err := content.LabFS(content.DefaultFS())
	must(t, err)
	root := t.TempDir()
	_, err = content.LabRepo(labFS, filepath.Join(root, "workshop-lab.git"))
	must(t, err)
	srv := httptest.NewServer(http.FileServer(http.Dir(root)))
	t.Cleanup(srv.Close)
	return srv.URL + "/workshop-lab.git"
}
