package grader

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"time"

	"golang.org/x/sync/singleflight"
)

// Options tune a Grader; the zero value gives sensible limits.
type Options struct {
	// MaxConcurrent bounds step runs in flight on this server (default 16):
	// a whole cohort pressing the button at once must not open hundreds of
	// connections.
	MaxConcurrent int
	// CheckTimeout bounds one check (default 20 s), StepTimeout a whole
	// step run (default 60 s).
	CheckTimeout time.Duration
	StepTimeout  time.Duration
	// AWS is the server-wide configuration of the EC2 checks.
	AWS AWSOptions
	// FreeTier answers the instance-type check.
	FreeTier FreeTierAdvisor
	// Resolver overrides the guard's DNS resolver (tests).
	Resolver Resolver
	// WrapDockerTransport wraps the transport of every Docker client
	// (tests count and police the calls through it; a server may meter).
	WrapDockerTransport func(http.RoundTripper) http.RoundTripper
}

// Grader runs checks against students' targets under the server's policy.
// It is safe for concurrent use; make one per server.
type Grader struct {
	policy Policy
	opts   Options
	sem    chan struct{}
	flight singleflight.Group
	// scope limits Docker lists to one label (tests on a shared engine).
	scope string
}

// New returns a Grader that enforces the admin's policy.
func New(p Policy, o Options) *Grader {
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 16
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = 20 * time.Second
	}
	if o.StepTimeout <= 0 {
		o.StepTimeout = 60 * time.Second
	}
	return &Grader{policy: p, opts: o, sem: make(chan struct{}, o.MaxConcurrent)}
}

// newEnv prepares one run's shared state. The cohort may allow private
// ranges; only the admin's policy allows loopback.
func (g *Grader) newEnv(t Target) *Env {
	env := &Env{
		Target: t,
		Guard: &Guard{
			AllowPrivate:  g.policy.AllowPrivate || t.AllowPrivate,
			AllowLoopback: g.policy.AllowLoopback,
			Resolver:      g.opts.Resolver,
		},
		FreeTier: g.opts.FreeTier,
	}
	env.docker.policy = g.policy
	env.docker.wrap = g.opts.WrapDockerTransport
	env.docker.scope = g.scope
	env.ConfigureAWS(g.opts.AWS)
	return env
}

// RunStep runs the given checks against one target and returns their
// results in the same order. key identifies the run (student and step):
// a second call with the same key while the first runs waits for it and
// gets the same results, so a double click costs one run. An empty key
// disables that. Unknown ids come back as error results.
func (g *Grader) RunStep(ctx context.Context, key string, t Target, checkIDs []string) []Result {
	if key == "" {
		return g.runStep(ctx, t, checkIDs)
	}
	// The shared run must not die with whichever caller came first; it
	// keeps its own deadline (StepTimeout) instead.
	ch := g.flight.DoChan(key, func() (any, error) {
		return g.runStep(context.WithoutCancel(ctx), t, checkIDs), nil
	})
	select {
	case r := <-ch:
		return append([]Result(nil), r.Val.([]Result)...)
	case <-ctx.Done():
		return errorResults(checkIDs, "The check was cancelled before it finished.")
	}
}

func (g *Grader) runStep(ctx context.Context, t Target, checkIDs []string) []Result {
	ctx, cancel := context.WithTimeout(ctx, g.opts.StepTimeout)
	defer cancel()
	select {
	case g.sem <- struct{}{}:
		defer func() { <-g.sem }()
	case <-ctx.Done():
		return errorResults(checkIDs, "The server is busy checking other students' work; try again in a minute.")
	}
	env := g.newEnv(t)
	defer env.closeDocker()
	out := make([]Result, 0, len(checkIDs))
	// Checks run one after another: they share the snapshot, so after the
	// first one most of them cost no call at all.
	for _, id := range checkIDs {
		out = append(out, g.runCheck(ctx, env, id))
	}
	return out
}

func (g *Grader) runCheck(ctx context.Context, env *Env, id string) (r Result) {
	start := time.Now()
	c, ok := Lookup(id)
	if !ok {
		return Result{CheckID: id, Title: id, Status: StatusError, Summary: "Unknown check " + id + ".", Started: start}
	}
	ctx, cancel := context.WithTimeout(ctx, g.opts.CheckTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			r = Result{CheckID: id, Title: c.Title(), Status: StatusError, Summary: "The check failed unexpectedly.",
				Evidence: []string{fmt.Sprint(p), string(debug.Stack())}}
		}
		r.Started, r.Duration = start, time.Since(start)
	}()
	r = c.Run(ctx, env)
	if r.Status == "" {
		r.Status = StatusError
	}
	return r
}

func errorResults(ids []string, summary string) []Result {
	out := make([]Result, len(ids))
	now := time.Now()
	for i, id := range ids {
		title := id
		if c, ok := Lookup(id); ok {
			title = c.Title()
		}
		out[i] = Result{CheckID: id, Title: title, Status: StatusError, Summary: summary, Started: now}
	}
	return out
}

// CheckedAgo helps the server's per-student, per-step rate limit: given
// the last run's time, it says whether a new run may start and, if not,
// the message to show ("Checked 12 s ago; try again in 18 s.").
func CheckedAgo(last, now time.Time, every time.Duration) (ok bool, message string) {
	since := now.Sub(last)
	if last.IsZero() || since >= every {
		return true, ""
	}
	wait := (every - since).Round(time.Second)
	if wait < time.Second {
		wait = time.Second
	}
	return false, fmt.Sprintf("Checked %d s ago; try again in %d s.", int(since.Seconds()), int(wait.Seconds()))
}

// ConnectionReport is what "Test connection" shows on the target page.
type ConnectionReport struct {
	Docker DockerReport `json:"docker"`
	// AWS lines come from the EC2 side (testAWSHook); empty when no AWS
	// target is set.
	AWS []string `json:"aws,omitempty"`
}

// DockerReport says whether the Docker host was reached and what it is.
type DockerReport struct {
	Configured    bool   `json:"configured"`
	Reached       bool   `json:"reached"`
	Endpoint      string `json:"endpoint"`
	ServerVersion string `json:"server_version,omitempty"`
	APIVersion    string `json:"api_version,omitempty"`
	OSArch        string `json:"os_arch,omitempty"`
	TLS           bool   `json:"tls"`
	Kind          string `json:"kind,omitempty"`
	Summary       string `json:"summary"`
	Hint          string `json:"hint,omitempty"`
}

// testAWSHook reports on the AWS side of a target for TestConnection, one
// line per fact; the EC2 half sets it from its init (testAWS).
var testAWSHook func(ctx context.Context, env *Env) []string

// TestConnection tries the target's Docker host (and AWS, through the EC2
// half) and says what it reached; it runs no check.
func (g *Grader) TestConnection(ctx context.Context, t Target) ConnectionReport {
	ctx, cancel := context.WithTimeout(ctx, g.opts.CheckTimeout)
	defer cancel()
	env := g.newEnv(t)
	defer env.closeDocker()
	var rep ConnectionReport
	dr := &rep.Docker
	dr.Endpoint = t.Docker.Endpoint
	dr.Configured = t.Docker.Endpoint != "" || t.Docker.Dial != nil
	if dr.Configured {
		d, err := env.dockerBase(ctx)
		if err != nil {
			dg := diagnoseDocker(err, env)
			dr.Kind, dr.Summary, dr.Hint = dg.kind, "Not reached: "+dg.summary, dg.hint
		} else {
			v := d.version
			dr.Reached, dr.TLS = true, d.conn.tls
			dr.ServerVersion, dr.APIVersion, dr.OSArch = v.Version, v.APIVersion, v.Os+"/"+v.Arch
			dr.Summary = fmt.Sprintf("Reached Docker Engine %s (API %s).", v.Version, v.APIVersion)
		}
	} else {
		dr.Summary = "No Docker endpoint set."
	}
	if testAWSHook != nil && (t.AWS.InstanceID != "" || t.AWS.Region != "") {
		rep.AWS = testAWSHook(ctx, env)
	}
	return rep
}
