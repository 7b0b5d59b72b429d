package grader

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/pkg/stdcopy"
)

// dockerCache is one step run's view of the Docker host. It is filled
// lazily and kept for the whole run, so all checks of a step share one
// container list, one image list and at most one inspect per object.
type dockerCache struct {
	policy Policy
	wrap   func(http.RoundTripper) http.RoundTripper
	// scope, when set, limits lists to objects with this label
	// ("key=value"): tests share one engine and must not see each other.
	scope string

	mu       sync.Mutex
	loaded   bool
	conn     *dockerConn
	err      error
	version  types.Version
	list     []container.Summary
	images   []image.Summary
	nets     []network.Summary
	netsDone bool
	cinspect map[string]container.InspectResponse
	iinspect map[string]image.InspectResponse
	logs     map[string]string
}

// dockerBase connects, reads the engine's version and lists containers and
// images: the part of the snapshot every Docker check needs.
func (e *Env) dockerBase(ctx context.Context) (*dockerCache, error) {
	d := &e.docker
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.loaded {
		return d, d.err
	}
	d.loaded = true
	d.err = d.load(ctx, e)
	return d, d.err
}

func (d *dockerCache) load(ctx context.Context, e *Env) error {
	g := e.Guard
	if g == nil {
		g = &Guard{}
	}
	conn, err := newDockerConn(e.Target.Docker, d.policy, g, d.wrap)
	if err != nil {
		return err
	}
	d.conn = conn
	v, err := conn.cli.ServerVersion(ctx)
	if err != nil {
		return err
	}
	d.version = v
	if v.APIVersion != "" && versions.LessThan(v.APIVersion, minAPIVersion) {
		return &apiTooOldError{version: v}
	}
	f := filters.NewArgs()
	if d.scope != "" {
		f.Add("label", d.scope)
	}
	if d.list, err = conn.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f}); err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	if d.images, err = conn.cli.ImageList(ctx, image.ListOptions{Filters: f}); err != nil {
		return fmt.Errorf("list images: %w", err)
	}
	d.cinspect = map[string]container.InspectResponse{}
	d.iinspect = map[string]image.InspectResponse{}
	d.logs = map[string]string{}
	return nil
}

// apiTooOldError is an engine older than minAPIVersion.
type apiTooOldError struct{ version types.Version }

func (e *apiTooOldError) Error() string {
	return fmt.Sprintf("Docker Engine %s speaks API %s; the grader needs API %s (Docker 20.10) or newer",
		e.version.Version, e.version.APIVersion, minAPIVersion)
}

// closeDocker releases the run's connections.
func (e *Env) closeDocker() {
	d := &e.docker
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil {
		d.conn.close()
		_ = d.conn.cli.Close()
	}
}

// containerInspect returns the inspect of one container, fetched once.
func (d *dockerCache) containerInspect(ctx context.Context, id string) (container.InspectResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ci, ok := d.cinspect[id]; ok {
		return ci, nil
	}
	ci, err := d.conn.cli.ContainerInspect(ctx, id)
	if err != nil {
		return ci, fmt.Errorf("inspect container %s: %w", short(id), err)
	}
	d.cinspect[id] = ci
	return ci, nil
}

// imageInspect returns the inspect of one image, fetched once.
func (d *dockerCache) imageInspect(ctx context.Context, id string) (image.InspectResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ii, ok := d.iinspect[id]; ok {
		return ii, nil
	}
	ii, err := d.conn.cli.ImageInspect(ctx, id)
	if err != nil {
		return ii, fmt.Errorf("inspect image %s: %w", short(id), err)
	}
	d.iinspect[id] = ii
	return ii, nil
}

// networks lists the host's networks once.
func (d *dockerCache) networks(ctx context.Context) ([]network.Summary, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.netsDone {
		return d.nets, nil
	}
	nets, err := d.conn.cli.NetworkList(ctx, network.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	d.nets, d.netsDone = nets, true
	return nets, nil
}

// logTailLines is how much of an exited container's log a hint shows.
const logTailLines = 15

// logTail returns the last lines of a container's log, fetched once.
func (d *dockerCache) logTail(ctx context.Context, id string, tty bool) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if l, ok := d.logs[id]; ok {
		return l
	}
	rc, err := d.conn.cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: fmt.Sprint(logTailLines)})
	if err != nil {
		d.logs[id] = ""
		return ""
	}
	defer rc.Close()
	raw, _ := io.ReadAll(io.LimitReader(rc, 64<<10))
	var out bytes.Buffer
	// A container without a TTY multiplexes stdout and stderr in frames.
	if tty {
		out.Write(raw)
	} else if _, err := stdcopy.StdCopy(&out, &out, bytes.NewReader(raw)); err != nil {
		out.Reset()
		out.Write(raw)
	}
	l := strings.TrimSpace(strings.ReplaceAll(out.String(), "\r\n", "\n"))
	d.logs[id] = l
	return l
}

// short abbreviates an image or container id as docker ps does.
func short(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
