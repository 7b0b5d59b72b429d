package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/coursekit/workshop/grader/agent"
)

// runAgent is "workshop agent": the read-only Docker API agent a student
// runs on their host. It stops cleanly on SIGINT and on SIGTERM (systemd,
// docker stop).
func runAgent(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return agent.RunCLI(ctx, args, stdout, stderr)
}
