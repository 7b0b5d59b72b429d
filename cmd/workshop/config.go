package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// Config is the server's whole configuration, from flags and environment
// variables (a flag given on the command line wins), checked by Validate
// before anything starts.
type Config struct {
	Addr          string
	DatabaseURL   string
	DataDir       string
	LogLevel      string
	LogFormat     string
	BaseURL       string
	SecretKey     string
	ContentDir    string
	LabRepoURL    string
	ShutdownGrace time.Duration
	// Grader network policy (admin settings for local labs and tests).
	AllowPlainDocker bool
	AllowPrivate     bool
	AllowLoopback    bool
	// ServerEgressCIDRs are the addresses the server's checks come from,
	// which the security-group check expects port 8000 to admit.
	ServerEgressCIDRs string
	CourseAccountID   string
	InternalSecret    string
	// InternalURL is this replica's address for the other replicas (the
	// agent hop); empty means http://127.0.0.1:PORT, right for one replica.
	InternalURL string
	// DownloadsDir holds the agent's binaries; empty means DATA/downloads.
	DownloadsDir string
	// RoleTemplateURL is the S3 copy of the read-only role's template, for
	// the console's quick-create link.
	RoleTemplateURL string
	// AgentImage is a container image with the workshop binary, for the
	// "docker run" way to start the agent.
	AgentImage string
	Demo       bool
}

// envFlag ties a flag to its environment variable.
type envFlag struct {
	flag, env, usage string
}

var configFlags = []envFlag{
	{"addr", "WORKSHOP_ADDR", "address to listen on (host:port)"},
	{"database-url", "DATABASE_URL", "PostgreSQL URL; empty runs a private PostgreSQL in the data folder"},
	{"data", "WORKSHOP_DATA", "data folder (private PostgreSQL, server key, lab repository)"},
	{"log-level", "WORKSHOP_LOG_LEVEL", "debug, info, warn or error"},
	{"log-format", "WORKSHOP_LOG_FORMAT", "text or json"},
	{"base-url", "WORKSHOP_BASE_URL", "public URL of the server, e.g. https://course.example.org"},
	{"secret-key", "WORKSHOP_SECRET_KEY", "64 hex characters (32 bytes) encrypting stored secrets; empty uses DATA/secret.key, created on first start"},
	{"content", "WORKSHOP_CONTENT", "serve the course from this folder instead of the built-in course (reloaded on change)"},
	{"lab-repo", "WORKSHOP_LAB_REPO_URL", "the lab's repository URL when an instructor hosts their own; empty serves the built-in lab"},
	{"shutdown-grace", "WORKSHOP_SHUTDOWN_GRACE", "how long in-flight requests may take to finish at shutdown"},
	{"allow-plain-docker", "WORKSHOP_ALLOW_PLAIN_DOCKER", "accept tcp:// without TLS and unix:// Docker endpoints (local labs, tests)"},
	{"allow-private", "WORKSHOP_ALLOW_PRIVATE", "let the graders reach private network ranges for every cohort"},
	{"allow-loopback", "WORKSHOP_ALLOW_LOOPBACK", "let the graders reach loopback addresses (tests and single-machine labs only)"},
	{"server-egress", "WORKSHOP_SERVER_EGRESS", "comma-separated CIDRs the server's checks come from (for the security-group check)"},
	{"course-account", "WORKSHOP_AWS_ACCOUNT_ID", "the course's AWS account id, trusted by students' read-only roles"},
	{"internal-secret", "WORKSHOP_INTERNAL_SECRET", "shared secret for requests between replicas (agent tunnel hop)"},
	{"internal-url", "WORKSHOP_INTERNAL_URL", "this replica's URL as the other replicas reach it, e.g. http://10.0.1.7:8080 (default http://127.0.0.1:PORT)"},
	{"downloads", "WORKSHOP_DOWNLOADS", "folder with the agent's binaries and SHA256SUMS (default DATA/downloads; built there at start when the Go toolchain and source are present)"},
	{"role-template-url", "WORKSHOP_ROLE_TEMPLATE_URL", "https URL of an S3 copy of /connect/readonly-role.yaml, for the console's one-click role"},
	{"agent-image", "WORKSHOP_AGENT_IMAGE", "container image with the workshop binary, offered as \"docker run\" for the agent"},
	{"demo", "WORKSHOP_DEMO", "fill a demo cohort with students and results at start"},
}

// bindConfig declares the flags on fs with their defaults.
func bindConfig(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.Addr, "addr", ":8080", "")
	fs.StringVar(&c.DatabaseURL, "database-url", "", "")
	fs.StringVar(&c.DataDir, "data", "./data", "")
	fs.StringVar(&c.LogLevel, "log-level", "info", "")
	fs.StringVar(&c.LogFormat, "log-format", "text", "")
	fs.StringVar(&c.BaseURL, "base-url", "", "")
	fs.StringVar(&c.SecretKey, "secret-key", "", "")
	fs.StringVar(&c.ContentDir, "content", "", "")
	fs.StringVar(&c.LabRepoURL, "lab-repo", "", "")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", 10*time.Second, "")
	fs.BoolVar(&c.AllowPlainDocker, "allow-plain-docker", false, "")
	fs.BoolVar(&c.AllowPrivate, "allow-private", false, "")
	fs.BoolVar(&c.AllowLoopback, "allow-loopback", false, "")
	fs.StringVar(&c.ServerEgressCIDRs, "server-egress", "", "")
	fs.StringVar(&c.CourseAccountID, "course-account", "", "")
	fs.StringVar(&c.InternalSecret, "internal-secret", "", "")
	fs.StringVar(&c.InternalURL, "internal-url", "", "")
	fs.StringVar(&c.DownloadsDir, "downloads", "", "")
	fs.StringVar(&c.RoleTemplateURL, "role-template-url", "", "")
	fs.StringVar(&c.AgentImage, "agent-image", "", "")
	fs.BoolVar(&c.Demo, "demo", false, "")
	for _, f := range configFlags {
		if fl := fs.Lookup(f.flag); fl != nil {
			fl.Usage = f.usage + " (env " + f.env + ")"
		}
	}
}

// parseConfig reads flags, then fills the flags not given from the
// environment; a malformed value names its variable and the expected form.
func parseConfig(fs *flag.FlagSet, c *Config, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, f := range configFlags {
		v, ok := os.LookupEnv(f.env)
		if !ok || given[f.flag] || fs.Lookup(f.flag) == nil {
			continue
		}
		if err := fs.Set(f.flag, v); err != nil {
			return fmt.Errorf("environment variable %s=%q is not valid: %s", f.env, v, expected(fs.Lookup(f.flag)))
		}
	}
	return nil
}

// flagValueErr matches the flag package's "invalid value" messages.
var flagValueErr = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-([\w-]+): `)

// parseFlags parses args without the flag package's usage dump on a bad
// value: the error is one line naming the flag, its variable and the
// expected form. -h still prints the usage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	out := fs.Output()
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	fs.SetOutput(out)
	if err == nil {
		return nil
	}
	if errors.Is(err, flag.ErrHelp) {
		_, _ = out.Write(buf.Bytes())
		return err
	}
	if m := flagValueErr.FindStringSubmatch(err.Error()); m != nil {
		if f := fs.Lookup(m[2]); f != nil {
			env := ""
			for _, cf := range configFlags {
				if cf.flag == f.Name {
					env = " (env " + cf.env + ")"
				}
			}
			return fmt.Errorf("flag --%s=%q is not valid: %s%s", f.Name, m[1], expected(f), env)
		}
	}
	return fmt.Errorf("%v (run with -h to list the flags)", err)
}

func expected(f *flag.Flag) string {
	switch f.DefValue {
	case "true", "false":
		return "expected true or false"
	}
	if _, err := time.ParseDuration(f.DefValue); err == nil {
		return "expected a duration such as 10s or 1m"
	}
	return "see --help"
}

// Validate checks every value before anything starts.
func (c *Config) Validate() error {
	var errs []error
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		errs = append(errs, fmt.Errorf("WORKSHOP_ADDR=%q is not host:port (for example :8080 or 127.0.0.1:8080)", c.Addr))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, errors.New("DATABASE_URL must start with postgres:// (for example postgres://user:pass@localhost:5432/workshop)"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("WORKSHOP_DATA must name a folder"))
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("WORKSHOP_LOG_FORMAT=%q: expected text or json", c.LogFormat))
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("WORKSHOP_BASE_URL=%q: expected an absolute http(s) URL such as https://course.example.org", c.BaseURL))
		}
	}
	if c.SecretKey != "" && len(c.SecretKey) != 64 {
		errs = append(errs, errors.New("WORKSHOP_SECRET_KEY must be 64 hex characters (32 bytes); generate one with: openssl rand -hex 32"))
	}
	if c.ShutdownGrace < 0 || c.ShutdownGrace > 10*time.Minute {
		errs = append(errs, errors.New("WORKSHOP_SHUTDOWN_GRACE must be between 0s and 10m"))
	}
	for _, cidr := range splitList(c.ServerEgressCIDRs) {
		if _, _, err := net.ParseCIDR(cidr); err != nil {
			errs = append(errs, fmt.Errorf("WORKSHOP_SERVER_EGRESS: %q is not a CIDR such as 203.0.113.10/32", cidr))
		}
	}
	if c.InternalURL != "" {
		u, err := url.Parse(c.InternalURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			errs = append(errs, fmt.Errorf("WORKSHOP_INTERNAL_URL=%q: expected this replica's base URL such as http://10.0.1.7:8080", c.InternalURL))
		}
	}
	if c.RoleTemplateURL != "" {
		u, err := url.Parse(c.RoleTemplateURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			errs = append(errs, fmt.Errorf("WORKSHOP_ROLE_TEMPLATE_URL=%q: expected the https URL of the template in S3", c.RoleTemplateURL))
		}
	}
	return errors.Join(errs...)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("WORKSHOP_LOG_LEVEL=%q: expected debug, info, warn or error", s)
	}
	return l, nil
}

func (c *Config) logger() *slog.Logger {
	level, _ := parseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// loadConfig parses a command's flags and environment into cfg and
// validates it. When it returns ok false the command exits with code: 0
// after -h, 2 with one line naming what is wrong.
func loadConfig(fs *flag.FlagSet, cfg *Config, args []string, stderr io.Writer) (code int, ok bool) {
	if err := parseConfig(fs, cfg, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		fmt.Fprintf(stderr, "workshop: %v\n", err)
		return 2, false
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "workshop: %v\n", err)
		return 2, false
	}
	return 0, true
}
