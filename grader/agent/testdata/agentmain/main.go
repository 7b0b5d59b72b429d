// Command agentmain is "workshop agent" alone, for tests that run the agent
// as its own process or container without the rest of the server.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/coursekit/workshop/grader/agent"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "agent" {
		fmt.Fprintln(os.Stderr, "usage: workshop agent --server URL")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(agent.RunCLI(ctx, os.Args[2:], os.Stdout, os.Stderr))
}
