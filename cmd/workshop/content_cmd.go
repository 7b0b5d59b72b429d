package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/coursekit/workshop/content"
	"github.com/coursekit/workshop/grader"
)

// runContentCheck implements `workshop content check DIR`: it validates a
// content folder and prints every problem as file:line: message. It returns
// the process exit code: 0 valid, 1 problems found, 2 usage error.
func runContentCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("content check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: workshop content check DIR")
		fmt.Fprintln(stderr, "Validates the course in DIR (which holds course/course.yaml, or course.yaml itself).")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	dir := fs.Arg(0)
	problems := content.CheckWith(dir, content.Options{KnownChecks: grader.Known})
	for _, p := range problems {
		fmt.Fprintln(stdout, p.String())
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "%s: %d problem(s)\n", dir, len(problems))
		return 1
	}
	fmt.Fprintf(stdout, "%s: content is valid\n", dir)
	return 0
}
