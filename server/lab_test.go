package server

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/coursekit/workshop/content"
	"github.com/coursekit/workshop/internal/testenv"
)

var (
	labOnce sync.Once
	labOpts LabOptions
	labErr  error
	labDir  string
)

// labForTests builds the built-in lab's repository and tarball once per
// test binary.
func labForTests(t testing.TB) LabOptions {
	t.Helper()
	labOnce.Do(func() {
		var fsys, err = content.LabFS(content.DefaultFS())
		if err != nil {
			labErr = err
			return
		}
		labDir, labErr = mkdirTemp()
		if labErr != nil {
			return
		}
		dir := filepath.Join(labDir, "workshop-lab.git")
		if _, labErr = content.LabRepo(fsys, dir); labErr != nil {
			return
		}
		tarball, err := content.LabTarball(fsys)
		labOpts, labErr = LabOptions{RepoDir: dir, Tarball: tarball}, err
	})
	if labErr != nil {
		t.Fatalf("lab: %v", labErr)
	}
	return labOpts
}

func TestLabClonesOverHTTP(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		testenv.Require(t, "git", err)
	}
	h := newHarness(t)
	dst := filepath.Join(t.TempDir(), "lab")
	out, err := exec.Command("git", "clone", h.TS.URL+"/lab/workshop-lab.git", dst).CombinedOutput()
	if err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	ls, _ := exec.Command("git", "-C", dst, "ls-files").Output()
	for _, want := range []string{"django-app/Dockerfile", "django-app/Dockerfile.multistage", "django-app/manage.py", "static-site/Dockerfile"} {
		if !strings.Contains(string(ls), want) {
			t.Errorf("clone lacks %s; has:\n%s", want, ls)
		}
	}
	resp := h.get(h.client(), "/lab/workshop-lab.tar.gz")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/gzip" {
		t.Errorf("tarball: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	readBody(resp)
	if resp := h.get(h.client(), "/lab/workshop-lab.git/../../etc/passwd"); resp.StatusCode != 404 {
		t.Errorf("path traversal: got %d, want 404", resp.StatusCode)
	}
}

func mkdirTemp() (string, error) { return os.MkdirTemp("", "workshop-lab-") }
