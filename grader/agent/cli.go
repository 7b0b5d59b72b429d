package agent

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

const cliUsage = `usage: workshop agent --server URL [--token TOKEN] [--docker-socket PATH]

Connects this host's Docker engine to the workshop course server, read-only:
the agent dials out to the server (no inbound port) and answers only the
read requests the course's checks make; anything else is refused here and
logged.

  --server URL          the course server, e.g. https://course.example.com
  --token TOKEN         the agent token from the course's target page; prefer
                        the WORKSHOP_AGENT_TOKEN environment variable, which
                        other users cannot see in the process list
  --docker-socket PATH  the Docker engine's socket (default: DOCKER_HOST when
                        it is unix://..., else /var/run/docker.sock)
  --version             print the agent's version
`

// RunCLI is "workshop agent": it parses args, runs the agent until ctx ends
// and returns the exit status (0 when stopped, 2 for bad usage, 1 when the
// agent cannot run).
func RunCLI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("workshop agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, cliUsage) }
	server := fs.String("server", "", "course server URL")
	token := fs.String("token", "", "agent token")
	socket := fs.String("docker-socket", "", "Docker engine socket")
	version := fs.Bool("version", false, "print the version")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *version {
		fmt.Fprintf(stdout, "workshop agent %s\n", Version)
		return 0
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "workshop agent: "+format+"\n", a...)
		fmt.Fprintln(stderr, "run 'workshop agent --help' for usage")
		return 2
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	if *server == "" {
		return usageErr("--server is required (the course server's address, e.g. https://course.example.com)")
	}
	if _, err := connectURL(*server); err != nil {
		return usageErr("%v", err)
	}
	tok := strings.TrimSpace(*token)
	if tok == "" {
		tok = strings.TrimSpace(os.Getenv("WORKSHOP_AGENT_TOKEN"))
	}
	if tok == "" {
		return usageErr("no token: set WORKSHOP_AGENT_TOKEN or pass --token (copy it from the course's target page)")
	}
	sock := *socket
	if sock == "" {
		if dh := os.Getenv("DOCKER_HOST"); dh != "" {
			path, ok := strings.CutPrefix(dh, "unix://")
			if !ok {
				return usageErr("DOCKER_HOST=%s is not a unix socket; the agent reads the local engine: pass --docker-socket PATH", dh)
			}
			sock = path
		} else {
			sock = DefaultDockerSocket
		}
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if _, err := os.Stat(sock); err != nil {
		// Docker may start after the agent (boot order); keep going.
		logger.Warn("Docker socket not found yet; is Docker installed and running?", "socket", sock, "err", err)
	}
	logger.Info("workshop agent starting", "version", Version, "server", *server, "docker_socket", sock)
	if err := Run(ctx, Config{ServerURL: *server, Token: tok, DockerSocket: sock, Logger: logger}); err != nil {
		fmt.Fprintf(stderr, "workshop agent: %v\n", err)
		return 1
	}
	logger.Info("workshop agent stopped")
	return 0
}
