package content

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coursekit/workshop/internal/testenv"
	"gopkg.in/yaml.v3"
)

func labFS(t *testing.T) fs.FS {
	t.Helper()
	lab, err := LabFS(DefaultFS())
	if err != nil {
		t.Fatal(err)
	}
	return lab
}

// TestLabLayout keeps the files the course and the grader rely on.
func TestLabLayout(t *testing.T) {
	lab := labFS(t)
	tests := []struct {
		file string
		want []string
	}{
		{"README.md", []string{"django-app"}},
		{"django-app/manage.py", []string{"hello.settings"}},
		{"django-app/requirements.txt", []string{"Django>=5.2,<5.3", "gunicorn>=23,<24"}},
		{"django-app/hello/settings.py", []string{"DJANGO_ALLOWED_HOSTS", `"localhost,127.0.0.1"`, "DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DATABASES = {}"}},
		{"django-app/hello/templates/hello/index.html", []string{"Workshop lab app", `<meta name="workshop-lab" content="django-app">`}},
		{"django-app/Dockerfile", []string{"FROM python:3.13-slim", `workshop.lab="django-app"`, `workshop.lab.build="single-stage"`, "runserver", "0.0.0.0:8000"}},
		{"django-app/Dockerfile.multistage", []string{"AS builder", "--prefix=/install", "COPY --from=builder /install /usr/local", "USER app", `workshop.lab.build="multi-stage"`, "gunicorn"}},
		{"django-app/.dockerignore", []string{".git"}},
		{"django-app/compose.yaml", []string{"labnet", "http://web:8000/"}},
		{"static-site/Dockerfile", []string{"FROM python:3.13-slim", `workshop.lab="static-site"`, "http.server"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := fs.ReadFile(lab, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !bytes.Contains(data, []byte(w)) {
					t.Errorf("%s does not contain %q", tt.file, w)
				}
			}
		})
	}
}

// TestLabRepoClone serves the bare repository as static files and clones it
// with the real git over the dumb HTTP protocol.
func TestLabRepoClone(t *testing.T) {
	_, err := exec.LookPath("git")
	testenv.Require(t, "git", err)
	lab := labFS(t)
	served := t.TempDir()
	commit, err := LabRepo(lab, filepath.Join(served, "workshop-lab.git"))
	if err != nil {
		t.Fatal(err)
	}
	// The same files give the same commit.
	again, err := LabRepo(lab, filepath.Join(t.TempDir(), "again.git"))
	if err != nil {
		t.Fatal(err)
	}
	if again != commit {
		t.Errorf("commit not reproducible: %s then %s", commit, again)
	}

	srv := httptest.NewServer(http.FileServer(http.Dir(served)))
	defer srv.Close()
	clone := filepath.Join(t.TempDir(), "workshop-lab")
	cmd := exec.Command("git", "clone", srv.URL+"/workshop-lab.git", clone)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	out, err := exec.Command("git", "-C", clone, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != commit {
		t.Errorf("cloned HEAD = %s, want %s", got, commit)
	}
	if out, err := exec.Command("git", "-C", clone, "fsck", "--strict").CombinedOutput(); err != nil {
		t.Errorf("git fsck: %v\n%s", err, out)
	}

	// Every file arrived with its content, and manage.py is executable.
	n := 0
	err = fs.WalkDir(lab, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		want, _ := fs.ReadFile(lab, p)
		got, err := os.ReadFile(filepath.Join(clone, filepath.FromSlash(p)))
		if err != nil {
			t.Errorf("%s missing from the clone: %v", p, err)
			return nil
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs in the clone", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(clone, "django-app", "manage.py"))
	if err != nil || info.Mode()&0o100 == 0 {
		t.Errorf("manage.py is not executable in the clone: %v %v", info.Mode(), err)
	}
	if n < 10 {
		t.Errorf("only %d files in the lab", n)
	}
}

// TestLabCompose checks the networking lesson's compose file: the app and a
// second service on the user-defined network labnet.
func TestLabCompose(t *testing.T) {
	data, err := fs.ReadFile(labFS(t), "django-app/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Build    any      `yaml:"build"`
			Image    string   `yaml:"image"`
			Ports    []string `yaml:"ports"`
			Networks []string `yaml:"networks"`
		} `yaml:"services"`
		Networks map[string]struct {
			Name string `yaml:"name"`
		} `yaml:"networks"`
	}
	if err := yaml.Unmarshal(data, &compose); err != nil {
		t.Fatal(err)
	}
	web, probe := compose.Services["web"], compose.Services["probe"]
	if web.Build != "." || len(web.Ports) != 1 || web.Ports[0] != "8000:8000" {
		t.Errorf("web = %+v", web)
	}
	for name, s := range map[string][]string{"web": web.Networks, "probe": probe.Networks} {
		if len(s) != 1 || s[0] != "labnet" {
			t.Errorf("%s networks = %v, want [labnet]", name, s)
		}
	}
	if compose.Networks["labnet"].Name != "labnet" {
		t.Errorf("networks = %+v", compose.Networks)
	}
}

func TestLabTarball(t *testing.T) {
	lab := labFS(t)
	data, err := LabTarball(lab)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := LabTarball(lab)
	if !bytes.Equal(data, again) {
		t.Error("tarball is not reproducible")
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	got := map[string]int64{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h.Name, LabTopDir+"/") {
			t.Errorf("entry %q is outside %s/", h.Name, LabTopDir)
		}
		got[h.Name] = h.Mode
	}
	for name, mode := range map[string]int64{
		"workshop-lab/":                          0o755,
		"workshop-lab/README.md":                 0o644,
		"workshop-lab/django-app/":               0o755,
		"workshop-lab/django-app/manage.py":      0o755,
		"workshop-lab/django-app/.dockerignore":  0o644,
		"workshop-lab/django-app/hello/views.py": 0o644,
		"workshop-lab/static-site/Dockerfile":    0o644,
	} {
		if m, ok := got[name]; !ok || m != mode {
			t.Errorf("%s: mode %o present %v, want mode %o", name, m, ok, mode)
		}
	}
}
