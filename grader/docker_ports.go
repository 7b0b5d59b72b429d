package grader

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"
)

// Near-miss kinds of port-8000-published.
const (
	KindNotPublished       = "not-published"
	KindRandomHostPort     = "random-host-port"
	KindBoundToLoopback    = "bound-to-loopback"
	KindBoundToOneAddress  = "bound-to-one-address"
	KindWrongHostPort      = "wrong-host-port"
	KindWrongContainerPort = "wrong-container-port"
	KindHostNetwork        = "host-network"
	KindContainerExited    = "container-exited"
	KindRestarting         = "restarting"
	KindNotStarted         = "not-started"
)

func init() {
	register(checkFunc{"port-8000-published", "A running container publishes the app on host port 8000", checkPortPublished})
}

const appPortTCP = nat.Port("8000/tcp")

const runHint = "docker run -d --name web -p 8000:8000 django-app"

// allInterfaces reports a bind address that accepts connections from
// outside the host.
func allInterfaces(ip string) bool { return ip == "" || ip == "0.0.0.0" || ip == "::" }

func bindings(pm nat.PortMap) string {
	var parts []string
	for p, bs := range pm {
		for _, b := range bs {
			parts = append(parts, fmt.Sprintf("%s:%s->%s", orAll(b.HostIP), orRandom(b.HostPort), p))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func orRandom(p string) string {
	if p == "" {
		return "(random)"
	}
	return p
}

// publishDiagnosis judges one running container's ports: "" means it
// publishes 8000 on 8000 on all interfaces.
func publishDiagnosis(ci container.InspectResponse) (kind, summary, hint string) {
	name := strings.TrimPrefix(ci.Name, "/")
	if ci.HostConfig != nil && ci.HostConfig.NetworkMode.IsHost() {
		return KindHostNetwork, "Container " + name + " uses the host's network (--network host): it works, but nothing is published.",
			"That skips what this step teaches. Run it on the default network with -p 8000:8000: " + runHint
	}
	var actual nat.PortMap
	if ci.NetworkSettings != nil {
		actual = ci.NetworkSettings.Ports
	}
	var asked nat.PortMap
	if ci.HostConfig != nil {
		asked = ci.HostConfig.PortBindings
	}
	for _, b := range actual[appPortTCP] {
		if b.HostPort == "8000" && allInterfaces(b.HostIP) {
			return "", "", ""
		}
	}
	for _, b := range asked[appPortTCP] {
		switch {
		case b.HostPort == "8000" && (b.HostIP == "127.0.0.1" || b.HostIP == "::1" || b.HostIP == "localhost"):
			return KindBoundToLoopback, "Container " + name + " publishes port 8000 on 127.0.0.1 only: nothing outside the instance can reach it.",
				"Publish on all interfaces: -p 8000:8000 (without 127.0.0.1:). " + runHint
		case b.HostPort == "8000":
			return KindBoundToOneAddress, "Container " + name + " publishes port 8000 on " + b.HostIP + " only.",
				"Publish on all interfaces: -p 8000:8000. " + runHint
		case b.HostPort == "":
			got := "a random port"
			if len(actual[appPortTCP]) > 0 {
				got = "host port " + actual[appPortTCP][0].HostPort
			}
			return KindRandomHostPort, "Container " + name + " publishes port 8000 on " + got + ", not on 8000.",
				"-p 8000 lets Docker pick the host port. Give both sides: -p 8000:8000 (host:container). " + runHint
		default:
			return KindWrongHostPort, "Container " + name + " publishes the app on host port " + b.HostPort + ", not 8000.",
				"-p " + b.HostPort + ":8000 opens host port " + b.HostPort + "; the course opens 8000 in the security group. Use -p 8000:8000 (host:container)."
		}
	}
	if ci.HostConfig != nil && ci.HostConfig.PublishAllPorts && len(actual[appPortTCP]) > 0 {
		return KindRandomHostPort, "Container " + name + " was run with -P: port 8000 went to host port " + actual[appPortTCP][0].HostPort + ".",
			"-P picks random host ports. Use -p 8000:8000. " + runHint
	}
	for p, bs := range asked {
		for _, b := range bs {
			if b.HostPort == "8000" && p != appPortTCP {
				return KindWrongContainerPort, "Container " + name + " sends host port 8000 to container port " + string(p) + ", where the app does not listen.",
					"The app listens on 8000 inside the container: -p 8000:8000 (host:container), not -p 8000:" + p.Port() + "."
			}
		}
	}
	if len(asked) > 0 {
		return KindWrongHostPort, "Container " + name + " publishes other ports (" + bindings(asked) + "), not 8000.",
			"Use -p 8000:8000 (host:container). " + runHint
	}
	return KindNotPublished, "Container " + name + " runs but publishes no port: only other containers can reach it.",
		"Stop it (docker stop " + name + ") and run it with -p 8000:8000: " + runHint
}

func checkPortPublished(ctx context.Context, env *Env) Result {
	return dockerOr(ctx, env, func(d *dockerCache) Result {
		cs := d.appContainers(d.appImages(ctx))
		var ev []string
		var first Result
		var restarting, exited, created *container.Summary
		for i, c := range cs {
			switch c.State {
			case container.StateRunning:
				ci, err := d.containerInspect(ctx, c.ID)
				if err != nil {
					ev = append(ev, err.Error())
					continue
				}
				ev = append(ev, describe(c)+", ports: "+bindings(ci.NetworkSettings.Ports))
				kind, summary, hint := publishDiagnosis(ci)
				if kind == "" {
					return result(StatusPass, "", "Container "+cname(c)+" publishes the app on 0.0.0.0:8000.", "", ev...)
				}
				if first.Kind == "" {
					first = result(StatusFail, kind, summary, hint)
				}
			case container.StateRestarting:
				if restarting == nil {
					restarting = &cs[i]
				}
			case container.StateExited, container.StateDead:
				if exited == nil {
					exited = &cs[i]
				}
			case container.StateCreated:
				if created == nil {
					created = &cs[i]
				}
			}
		}
		if first.Kind != "" {
			first.Evidence = ev
			return first
		}
		return notRunning(ctx, d, restarting, exited, created)
	})
}

// notRunning explains why no container of the app runs, with its log.
func notRunning(ctx context.Context, d *dockerCache, restarting, exited, created *container.Summary) Result {
	switch {
	case restarting != nil:
		ci, _ := d.containerInspect(ctx, restarting.ID)
		logs := d.logTail(ctx, restarting.ID, ci.Config != nil && ci.Config.Tty)
		ev := append([]string{describe(*restarting), fmt.Sprintf("restarted %d times", ci.RestartCount)}, logEvidence(logs)...)
		return result(StatusFail, KindRestarting, "Container "+cname(*restarting)+" keeps crashing and restarting.",
			"Read its log (docker logs "+cname(*restarting)+"): the app stops at start-up. "+crashHint(logs), ev...)
	case exited != nil:
		ci, _ := d.containerInspect(ctx, exited.ID)
		logs := d.logTail(ctx, exited.ID, ci.Config != nil && ci.Config.Tty)
		code := 0
		if ci.State != nil {
			code = ci.State.ExitCode
		}
		ev := append([]string{describe(*exited), fmt.Sprintf("exit code %d", code)}, logEvidence(logs)...)
		return result(StatusFail, KindContainerExited, fmt.Sprintf("The app's container %s has stopped (exit code %d).", cname(*exited), code),
			"Start a new one in the background: "+runHint+". "+crashHint(logs), ev...)
	case created != nil:
		ci, _ := d.containerInspect(ctx, created.ID)
		why := ""
		if ci.State != nil {
			why = ci.State.Error
		}
		return result(StatusFail, KindNotStarted, "The app's container "+cname(*created)+" was created but never started.",
			"docker ps -a shows why; if port 8000 is taken, stop the container holding it, then: docker rm "+cname(*created)+" && "+runHint,
			describe(*created), "error: "+why)
	}
	return result(StatusFail, KindNoContainer, "No container of the app is running.", "Run it: "+runHint)
}

// crashHint reads a crashed app's log for the causes the course knows.
func crashHint(logs string) string {
	switch {
	case strings.Contains(logs, "No module named 'django'") || strings.Contains(logs, "No module named django"):
		return "Python cannot find Django in the image: the packages pip installed are missing (see the multi-stage topic: COPY --from=builder /install /usr/local)."
	case strings.Contains(logs, "DisallowedHost") || strings.Contains(logs, "ALLOWED_HOSTS"):
		return "Set the allowed host: -e DJANGO_ALLOWED_HOSTS=<host_ip>."
	case strings.Contains(logs, "can't open file") && strings.Contains(logs, "manage.py"):
		return "manage.py is not where the command expects it: build from the django-app folder."
	}
	return ""
}
