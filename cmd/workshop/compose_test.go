package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The deployment files cannot be built here (no registry), so these tests
// check the facts instructors rely on, and that the compose file's settings
// are ones this server accepts.

// composeFile is the part of docker-compose.yml the tests look at.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image       string                       `yaml:"image"`
	Build       map[string]any               `yaml:"build"`
	Restart     string                       `yaml:"restart"`
	Environment map[string]string            `yaml:"environment"`
	Ports       []string                     `yaml:"ports"`
	Volumes     []string                     `yaml:"volumes"`
	DependsOn   map[string]map[string]string `yaml:"depends_on"`
	Healthcheck struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(b)
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	var c composeFile
	if err := yaml.Unmarshal([]byte(readRepoFile(t, "docker-compose.yml")), &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

// namedVolume returns the named volume mounted at target, or fails.
func namedVolume(t *testing.T, c composeFile, svc composeService, target string) string {
	t.Helper()
	for _, v := range svc.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == target {
			if _, ok := c.Volumes[parts[0]]; !ok {
				t.Errorf("volume %q for %s is not a declared named volume", parts[0], target)
			}
			return parts[0]
		}
	}
	t.Errorf("no volume mounted at %s", target)
	return ""
}

func TestComposeDatabase(t *testing.T) {
	c := loadCompose(t)
	db, ok := c.Services["db"]
	if !ok {
		t.Fatal("no db service")
	}
	if db.Image != "postgres:16" && !strings.HasPrefix(db.Image, "postgres:16.") && !strings.HasPrefix(db.Image, "postgres:16-") {
		t.Errorf("db image %q, want PostgreSQL 16", db.Image)
	}
	if test := strings.Join(db.Healthcheck.Test, " "); !strings.Contains(test, "pg_isready") {
		t.Errorf("db healthcheck %q does not use pg_isready", test)
	}
	namedVolume(t, c, db, "/var/lib/postgresql/data")
	if db.Restart != "unless-stopped" {
		t.Errorf("db restart %q", db.Restart)
	}
	for _, k := range []string{"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"} {
		if db.Environment[k] == "" {
			t.Errorf("db environment lacks %s", k)
		}
	}
}

func TestComposeServer(t *testing.T) {
	c := loadCompose(t)
	app, ok := c.Services["workshop"]
	if !ok {
		t.Fatal("no workshop service")
	}
	if ctx, _ := app.Build["context"].(string); ctx != "." {
		t.Errorf("build context %q, want . (the Dockerfile at the root)", ctx)
	}
	if cond := app.DependsOn["db"]["condition"]; cond != "service_healthy" {
		t.Errorf("depends_on db condition %q, want service_healthy", cond)
	}
	if len(app.Ports) != 1 || !strings.HasSuffix(app.Ports[0], "8080:8080") {
		t.Errorf("ports %v, want 8080:8080", app.Ports)
	}
	if app.Restart != "unless-stopped" {
		t.Errorf("restart %q", app.Restart)
	}
	if namedVolume(t, c, app, "/data") == "" || app.Environment["WORKSHOP_DATA"] != "/data" {
		t.Errorf("WORKSHOP_DATA %q is not the /data volume", app.Environment["WORKSHOP_DATA"])
	}
	url := app.Environment["DATABASE_URL"]
	if !strings.HasPrefix(url, "postgres://") || !strings.Contains(url, "@db:5432/") {
		t.Errorf("DATABASE_URL %q does not point at the db service", url)
	}
	if app.Environment["WORKSHOP_LOG_FORMAT"] != "json" {
		t.Errorf("WORKSHOP_LOG_FORMAT %q, want json", app.Environment["WORKSHOP_LOG_FORMAT"])
	}
	for _, k := range []string{"WORKSHOP_BASE_URL", "WORKSHOP_SECRET_KEY"} {
		if _, ok := app.Environment[k]; !ok {
			t.Errorf("environment lacks %s", k)
		}
	}
	// The health check runs a subcommand this binary has.
	test := app.Healthcheck.Test
	if len(test) < 3 || test[0] != "CMD" || !strings.HasSuffix(test[1], "/workshop") || commands[test[2]] == nil {
		t.Errorf("healthcheck %v does not run a workshop subcommand", test)
	}
	if !strings.Contains(readRepoFile(t, "Dockerfile"), "COPY --from=build /out/workshop "+test[1]) {
		t.Errorf("the healthcheck runs %s, which the Dockerfile does not install", test[1])
	}
}

// composeVar matches ${VAR:-default}; replaced by "$2" it becomes the
// default, as compose does when VAR is unset.
var composeVar = regexp.MustCompile(`\$\{(\w+)(?::?-([^}]*))?\}`)

// TestComposeEnvironmentIsValid: every WORKSHOP_ variable in the compose
// file is one the server reads, and with the defaults the configuration
// passes Validate.
func TestComposeEnvironmentIsValid(t *testing.T) {
	c := loadCompose(t)
	known := map[string]bool{}
	for _, f := range configFlags {
		known[f.env] = true
	}
	for k, v := range c.Services["workshop"].Environment {
		if (strings.HasPrefix(k, "WORKSHOP_") || k == "DATABASE_URL") && !known[k] {
			t.Errorf("%s is not a variable the server reads", k)
		}
		t.Setenv(k, composeVar.ReplaceAllString(v, "$2"))
	}
	var cfg Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	bindConfig(fs, &cfg)
	if err := parseConfig(fs, &cfg, nil); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("the compose defaults do not validate: %v", err)
	}
	if cfg.Addr != ":8080" || cfg.DataDir != "/data" || cfg.LogFormat != "json" {
		t.Errorf("config from compose: addr %q data %q format %q", cfg.Addr, cfg.DataDir, cfg.LogFormat)
	}
}

func TestComposeDockerfile(t *testing.T) {
	d := readRepoFile(t, "Dockerfile")
	for _, want := range []string{
		"FROM golang:1.26-bookworm AS build",
		"CGO_ENABLED=0",
		"-trimpath",
		"-X main.version=${VERSION}",
		"./cmd/workshop",
		"EXPOSE 8080",
		"HEALTHCHECK",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	froms := regexp.MustCompile(`(?m)^FROM `).FindAllStringIndex(d, -1)
	if len(froms) < 2 {
		t.Errorf("Dockerfile has %d stages, want a build stage and a runtime stage", len(froms))
	}
	users := regexp.MustCompile(`(?m)^USER (\S+)`).FindAllStringSubmatch(d, -1)
	if len(users) == 0 {
		t.Fatal("Dockerfile sets no USER: the server would run as root")
	}
	if u := users[len(users)-1][1]; u == "root" || u == "0" || strings.HasPrefix(u, "0:") {
		t.Errorf("the runtime user is %s", u)
	}
	ignore := readRepoFile(t, ".dockerignore")
	for _, want := range []string{".git", "data", ".env"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(want) + `$`).MatchString(ignore) {
			t.Errorf(".dockerignore does not exclude %s", want)
		}
	}
}
