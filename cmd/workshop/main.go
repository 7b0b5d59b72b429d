// Command workshop is the workshop course server: it serves the course,
// grades students' real Docker hosts and EC2 security groups, and shows
// instructors their cohorts live.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `workshop: the workshop course server

Usage:
  workshop [serve] [flags]        run the server (the default)
  workshop migrate [apply|status] apply or show database migrations
  workshop content check DIR      validate a course folder
  workshop check --step ID        run a step's checks against the local Docker host and AWS
  workshop freetier [flags]       the free-tier calculator (--instances 2 --hours 375 ...)
  workshop agent --server URL     the read-only agent that connects a Docker host
  workshop admin create|setup-link manage administrator accounts
  workshop version                print the version
  workshop healthcheck            exit 0 when the server here answers /healthz
  workshop demo [--students N]    fill a demo cohort with students and results

Run "workshop COMMAND -h" for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// commands maps each subcommand to its entry point.
var commands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"serve":       runServe,
	"migrate":     runMigrate,
	"admin":       runAdmin,
	"healthcheck": runHealthcheck,
	"demo":        runDemo,
	"check":       runCheck,
	"agent":       runAgent,
	"content":     runContent,
	"freetier": func(args []string, stdout, stderr io.Writer) int {
		return runFreetier(args, stdout, stderr, time.Now())
	},
	"version": func(_ []string, stdout, _ io.Writer) int { fmt.Fprintln(stdout, "workshop", version); return 0 },
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return runServe(args, stdout, stderr)
	}
	if args[0] == "help" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "workshop: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	return cmd(args[1:], stdout, stderr)
}

// runContent dispatches `workshop content SUBCOMMAND`.
func runContent(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "usage: workshop content check DIR")
		return 2
	}
	return runContentCheck(args[1:], stdout, stderr)
}

// fail prints one line for err and returns the exit code.
func fail(stderr io.Writer, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "workshop: %v\n", err)
	return 1
}
