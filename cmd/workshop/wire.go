package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/coursekit/workshop/content"
	"github.com/coursekit/workshop/freetier"
	"github.com/coursekit/workshop/grader"
	"github.com/coursekit/workshop/grader/agent"
	"github.com/coursekit/workshop/server"
	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/web"
)

// buildServer wires the server's dependencies from the configuration: the
// server key, the course, the lab repository, the grader and the pages.
func buildServer(ctx context.Context, cfg *Config, db *store.DB, log *slog.Logger) (*server.Server, error) {
	key, created, err := store.LoadKey(cfg.SecretKey, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if created {
		log.Warn("created a new server key; back it up: stored secrets cannot be read without it", "file", filepath.Join(cfg.DataDir, "secret.key"))
	}
	sealer, err := store.NewSealer(key)
	if err != nil {
		return nil, err
	}
	db.SetSealer(sealer)

	opts := courseOptions(cfg)
	course, err := loadCourse(cfg, opts)
	if err != nil {
		return nil, err
	}
	lab, err := buildLab(cfg)
	if err != nil {
		return nil, err
	}
	renderer, err := web.New(map[string][]byte{"highlight.css": content.HighlightCSS()})
	if err != nil {
		return nil, err
	}
	g := grader.New(grader.Policy{AllowPlainDocker: cfg.AllowPlainDocker, AllowLoopback: cfg.AllowLoopback, AllowPrivate: cfg.AllowPrivate},
		grader.Options{AWS: grader.AWSOptions{ServerCIDRs: egress(cfg), CourseAccountID: cfg.CourseAccountID}, FreeTier: freetier.Advisor{}})
	downloads := cfg.DownloadsDir
	if downloads == "" {
		downloads = filepath.Join(cfg.DataDir, "downloads")
	}
	prepareDownloads(ctx, downloads, log)
	srv, err := server.New(server.Options{DB: db, Web: renderer, Log: log, BaseURL: cfg.BaseURL, Version: version,
		Course: course, Grader: g, Lab: lab, AWSEndpoint: os.Getenv("WORKSHOP_AWS_ENDPOINT"),
		Targets: server.TargetConfig{CourseAccountID: cfg.CourseAccountID, TemplateURL: cfg.RoleTemplateURL,
			ServerEgress: splitList(cfg.ServerEgressCIDRs), AllowPlain: cfg.AllowPlainDocker},
		Agent: server.AgentOptions{InternalURL: cfg.InternalURL, InternalSecret: cfg.InternalSecret, DownloadsDir: downloads, Image: cfg.AgentImage}})
	if err != nil {
		return nil, err
	}
	if cfg.ContentDir != "" {
		go content.Watch(ctx, cfg.ContentDir, opts, func(c *content.Course, err error) {
			if err != nil {
				log.Error("course folder changed but is invalid; still serving the previous version", "problems", err.Error())
				return
			}
			srv.SetCourse(c)
			log.Info("course reloaded", "folder", cfg.ContentDir)
		})
	}
	return srv, nil
}

// prepareDownloads makes sure the agent's binaries can be downloaded: when
// the folder lacks them and this machine has the Go toolchain and the
// source, they are built in the background (the start never waits; until
// they exist, /downloads/ answers 404 with a message). A release ships
// them instead (the Dockerfile builds them into the image).
func prepareDownloads(ctx context.Context, dir string, log *slog.Logger) {
	missing := false
	for _, name := range []string{"workshop-linux-amd64", "workshop-linux-arm64", "SHA256SUMS"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			missing = true
		}
	}
	if !missing {
		log.Debug("agent binaries present", "folder", dir)
		return
	}
	go func() {
		start := time.Now()
		log.Info("building the agent's binaries in the background", "folder", dir)
		if err := agent.BuildBinaries(ctx, dir, nil); err != nil {
			if ctx.Err() == nil {
				log.Warn("the agent's binaries are not available for download; students can still run the agent built by hand", "folder", dir, "reason", err.Error())
			}
			return
		}
		log.Info("agent binaries built", "folder", dir, "took", time.Since(start).Round(time.Second).String())
	}()
}

func courseOptions(cfg *Config) content.Options {
	base := cfg.BaseURL
	if base == "" {
		base = "http://localhost" + portSuffix(cfg.Addr)
	}
	return content.Options{ServerURL: base, LabRepoURL: cfg.LabRepoURL, KnownChecks: grader.Known}
}

// loadCourse loads the built-in course or the instructor's folder; invalid
// content stops the start with every problem listed.
func loadCourse(cfg *Config, opts content.Options) (*content.Course, error) {
	fsys := content.DefaultFS()
	where := "the built-in course"
	if cfg.ContentDir != "" {
		fsys, where = os.DirFS(cfg.ContentDir), cfg.ContentDir
	}
	course, err := content.Load(fsys, opts)
	if err != nil {
		return nil, fmt.Errorf("%s is not valid (fix these, then start again; `workshop content check DIR` lists them too):\n%v", where, err)
	}
	return course, nil
}

// buildLab writes the lab's bare repository into the data folder and
// makes its tarball, unless the instructor points at their own repository.
func buildLab(cfg *Config) (server.LabOptions, error) {
	if cfg.LabRepoURL != "" {
		return server.LabOptions{CustomRepo: cfg.LabRepoURL}, nil
	}
	labFS, err := content.LabFS(content.DefaultFS())
	if err != nil {
		return server.LabOptions{}, fmt.Errorf("lab: %w", err)
	}
	// Rebuilt at every start from the built-in files (it is reproducible:
	// same files, same commit id), in a fresh folder swapped in at the end.
	dir := filepath.Join(cfg.DataDir, "lab", "workshop-lab.git")
	tmp := dir + ".new"
	if err := os.RemoveAll(tmp); err != nil {
		return server.LabOptions{}, fmt.Errorf("lab repository: %w", err)
	}
	if _, err := content.LabRepo(labFS, tmp); err != nil {
		return server.LabOptions{}, fmt.Errorf("lab repository: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return server.LabOptions{}, fmt.Errorf("lab repository: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return server.LabOptions{}, fmt.Errorf("lab repository: %w", err)
	}
	tarball, err := content.LabTarball(labFS)
	if err != nil {
		return server.LabOptions{}, fmt.Errorf("lab tarball: %w", err)
	}
	return server.LabOptions{RepoDir: dir, Tarball: tarball}, nil
}

func egress(cfg *Config) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range splitList(cfg.ServerEgressCIDRs) {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func portSuffix(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[i:]
		}
	}
	return ""
}
