package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	"github.com/coursekit/workshop/content"
	"github.com/coursekit/workshop/freetier"
	"github.com/coursekit/workshop/grader"
)

// runCheck implements `workshop check --step ID`: it runs a step's checks
// against the local Docker engine (DOCKER_HOST) and the AWS default
// credential chain, prints the results as the course pages show them, and
// returns 0 when nothing failed, 1 when a check failed or could not
// decide, 2 on a usage error.
func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	step := fs.String("step", "", "step or topic id whose checks to run (e.g. publish-port)")
	checks := fs.String("checks", "", "comma-separated check ids, instead of --step")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	appURL := fs.String("app-url", "", "the app's address (default: the instance's public IP, port 8000)")
	instance := fs.String("instance", os.Getenv("WORKSHOP_INSTANCE_ID"), "EC2 instance id for the AWS checks")
	region := fs.String("region", firstEnv("AWS_REGION", "AWS_DEFAULT_REGION"), "AWS region of the instance")
	plan := fs.String("plan", "", "free-tier plan of the account: legacy or credits")
	timeout := fs.Duration("timeout", 60*time.Second, "deadline for the whole run")
	contentDir := fs.String("content", os.Getenv("WORKSHOP_CONTENT"), "course folder whose pages name the checks (default: the built-in course)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: workshop check --step ID [--json] [--app-url URL] [--instance i-… --region R]")
		fmt.Fprintln(stderr, "       workshop check --checks id,id [...]")
		fmt.Fprintln(stderr, "Runs the course's checks against this machine's Docker (DOCKER_HOST) and AWS account.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	var ids []string
	switch {
	case *checks != "":
		var err error
		if ids, err = grader.ParseCheckList(*checks); err != nil {
			fmt.Fprintln(stderr, "workshop check:", err)
			return 2
		}
	case *step != "":
		// The course's pages name each step's checks, as on the server.
		steps, err := stepChecks(*contentDir)
		if err != nil {
			fmt.Fprintln(stderr, "workshop check:", err)
			return 2
		}
		var ok bool
		if ids, ok = steps[*step]; !ok {
			names := make([]string, 0, len(steps))
			for s := range steps {
				names = append(names, s)
			}
			sort.Strings(names)
			fmt.Fprintf(stderr, "workshop check: unknown step %q; the steps are: %s\n", *step, strings.Join(names, ", "))
			return 2
		}
		if len(ids) == 0 {
			fmt.Fprintf(stdout, "Step %s has no checks: its quiz is the check.\n", *step)
			return 0
		}
	default:
		fs.Usage()
		return 2
	}

	target, err := grader.LocalTarget()
	if err != nil {
		fmt.Fprintln(stderr, "workshop check:", err)
		return 2
	}
	target.AppURL = *appURL
	target.AWS.InstanceID, target.AWS.Region, target.AWS.Plan = *instance, *region, *plan

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	g := grader.New(grader.LocalPolicy, grader.Options{
		StepTimeout: *timeout,
		AWS:         grader.AWSOptions{UseDefaultChain: true},
		FreeTier:    freetier.Advisor{},
	})
	results := g.RunStep(ctx, "", target, ids)
	if *asJSON {
		if err := grader.WriteJSON(stdout, results); err != nil {
			return 1
		}
	} else {
		grader.WriteResults(stdout, results)
	}
	if grader.Failed(results) {
		return 1
	}
	return 0
}

// stepChecks maps every page id of the course to the checks it names.
func stepChecks(dir string) (map[string][]string, error) {
	fsys := content.DefaultFS()
	if dir != "" {
		fsys = os.DirFS(dir)
	}
	course, err := content.Load(fsys, content.Options{KnownChecks: grader.Known})
	if err != nil {
		return nil, fmt.Errorf("course: %v", err)
	}
	out := map[string][]string{}
	for _, p := range course.Pages() {
		out[p.ID] = p.Checks
	}
	return out, nil
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}
