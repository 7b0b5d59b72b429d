package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// Docker connects to the local Docker engine (DOCKER_HOST or the default
// socket), or skips the test (fails under CI). It takes the engine's shared
// lock, so a test that needs the whole engine to itself (OwnDockerEngine)
// never finds this test's containers or images in its way.
func Docker(t testing.TB) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = cli.Ping(ctx)
	}
	Require(t, "docker", err)
	ShareDockerEngine(t)
	t.Cleanup(func() { cli.Close() })
	return cli
}
