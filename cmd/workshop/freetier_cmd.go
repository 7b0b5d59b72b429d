package main

import (
	"io"
	"time"

	"github.com/coursekit/workshop/freetier"
)

// runFreetier is the "workshop freetier" subcommand; the calculator's
// command line lives in package freetier so that it is tested there.
func runFreetier(args []string, stdout, stderr io.Writer, today time.Time) int {
	return freetier.RunCLI(args, stdout, stderr, today)
}
