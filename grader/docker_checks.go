package grader

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
)

// Near-miss kinds of the image and container checks.
const (
	KindNoImage             = "no-image"
	KindWrongFolder         = "wrong-folder"
	KindUntagged            = "untagged"
	KindNoContainer         = "no-container"
	KindNotInteractive      = "not-interactive"
	KindMissingTTY          = "missing-t"
	KindMissingStdin        = "missing-i"
	KindOldContainerRunning = "old-container-running"
	KindExitedLeftovers     = "exited-leftovers"
	KindPortConflict        = "port-conflict"
	KindPortAllocated       = "port-already-allocated"
	KindFailedAttempt       = "failed-attempt-left"
)

func init() {
	register(checkFunc{"app-image-built", "The lab app's image is built", checkAppImageBuilt})
	register(checkFunc{"app-image-tagged", "The app's image has a name (tag)", checkAppImageTagged})
	register(checkFunc{"app-container-interactive", "A container of the app was run interactively (-it)", checkInteractive})
	register(checkFunc{"old-container-removed", "The old container is stopped and removed", checkOldContainerRemoved})
	register(checkFunc{"port-8000-single-owner", "Only one container claims host port 8000", checkPortSingleOwner})
}

const buildHint = "In the lab folder run: cd django-app && docker build -t django-app ."

func imageEvidence(apps []appImage) []string {
	var ev []string
	for _, a := range apps {
		ev = append(ev, fmt.Sprintf("image %s (%s), built %s, %s, recognised by %s", a.name(), short(a.ID), ago(a.Created), mb(a.Size), a.how))
	}
	return ev
}

// noAppImage explains an empty list: the wrong folder is the usual cause.
func noAppImage(d *dockerCache) Result {
	for _, s := range d.images {
		if s.Labels[labelLab] == labStatic {
			name := "<none>"
			if t := tags(s); len(t) > 0 {
				name = t[0]
			}
			return result(StatusFail, KindWrongFolder,
				"The image you built is the static-site example, not the Django app.",
				"You built from the wrong folder. "+buildHint,
				fmt.Sprintf("image %s (%s) carries %s=%s", name, short(s.ID), labelLab, labStatic))
		}
	}
	return result(StatusFail, KindNoImage, "No image of the Django app on your Docker host.", buildHint,
		fmt.Sprintf("%d images on the host, none labelled %s=%s or running manage.py / a WSGI server", len(d.images), labelLab, labDjango))
}

func checkAppImageBuilt(ctx context.Context, env *Env) Result {
	return dockerOr(ctx, env, func(d *dockerCache) Result {
		apps := d.appImages(ctx)
		if len(apps) == 0 {
			return noAppImage(d)
		}
		for _, a := range apps {
			if len(tags(a.Summary)) > 0 {
				return result(StatusPass, "", "The app's image "+a.name()+" is built.", "", imageEvidence(apps)...)
			}
		}
		return result(StatusWarn, KindUntagged, "The app's image is built but has no name (<none>).",
			"Give it a name with -t, so you can run it by name: docker build -t django-app . (or docker tag "+short(apps[0].ID)+" django-app)",
			imageEvidence(apps)...)
	})
}

func checkAppImageTagged(ctx context.Context, env *Env) Result {
	return dockerOr(ctx, env, func(d *dockerCache) Result {
		apps := d.appImages(ctx)
		if len(apps) == 0 {
			return noAppImage(d)
		}
		for _, a := range apps {
			if t := tags(a.Summary); len(t) > 0 {
				return result(StatusPass, "", "docker images lists the app as "+strings.Join(t, ", ")+".", "", imageEvidence(apps)...)
			}
		}
		return result(StatusFail, KindUntagged, "The app's image shows as <none> in docker images.",
			"Tag it: docker tag "+short(apps[0].ID)+" django-app (or rebuild with docker build -t django-app .)",
			imageEvidence(apps)...)
	})
}

func checkInteractive(ctx context.Context, env *Env) Result {
	return dockerOr(ctx, env, func(d *dockerCache) Result {
		apps := d.appImages(ctx)
		cs := d.appContainers(apps)
		if len(cs) == 0 {
			return result(StatusFail, KindNoContainer, "No container of the app yet.",
				"Run it with a terminal attached and leave it running: docker run -it --name web-it django-app, then press Ctrl-P Ctrl-Q.")
		}
		var ev []string
		best := ""
		for _, c := range cs {
			ci, err := d.containerInspect(ctx, c.ID)
			if err != nil || ci.Config == nil {
				continue
			}
			ev = append(ev, fmt.Sprintf("%s: tty=%t, stdin open=%t", describe(c), ci.Config.Tty, ci.Config.OpenStdin))
			switch {
			case ci.Config.Tty && ci.Config.OpenStdin:
				return result(StatusPass, "", "Container "+cname(c)+" was run with -it.", "", ev...)
			case ci.Config.OpenStdin && best == "":
				best = KindMissingTTY
			case ci.Config.Tty && best == "":
				best = KindMissingStdin
			}
		}
		switch best {
		case KindMissingTTY:
			return result(StatusFail, KindMissingTTY, "The app was run with -i but without -t: no terminal attached.",
				"Use both flags together: docker run -it django-app", ev...)
		case KindMissingStdin:
			return result(StatusFail, KindMissingStdin, "The app was run with -t but without -i: your keyboard is not connected.",
				"Use both flags together: docker run -it django-app", ev...)
		}
		return result(StatusFail, KindNotInteractive, "The app's containers were run without -it.",
			"Run it with a terminal attached: docker run -it --name web-it django-app (Ctrl-P Ctrl-Q leaves it running; Ctrl-C stops it).", ev...)
	})
}

func checkOldContainerRemoved(ctx context.Context, env *Env) Result {
	return dockerOr(ctx, env, func(d *dockerCache) Result {
		apps := d.appImages(ctx)
		cs := d.appContainers(apps)
		newest := ""
		if len(apps) > 0 {
			newest = apps[0].ID
		}
		var old, exited []container.Summary
		for _, c := range cs {
			running := c.State == container.StateRunning || c.State == container.StateRestarting || c.State == container.StatePaused
			switch {
			case running && d.superseded(ctx, c, apps):
				old = append(old, c)
			case !running:
				exited = append(exited, c)
			}
		}
		var ev []string
		for _, c := range cs {
			ev = append(ev, describe(c))
		}
		if len(apps) > 0 {
			ev = append(ev, "newest app image: "+apps[0].name()+" ("+short(newest)+"), built "+ago(apps[0].Created))
		}
		if len(old) > 0 {
			ids := make([]string, 0, len(old))
			for _, c := range old {
				ids = append(ids, cname(c))
			}
			return result(StatusFail, KindOldContainerRunning,
				fmt.Sprintf("An old container of the app still runs: %s.", strings.Join(ids, ", ")),
				"Stop it and remove it: docker stop "+ids[0]+" && docker rm "+ids[0], ev...)
		}
		if len(exited) > 0 {
			return result(StatusWarn, KindExitedLeftovers,
				fmt.Sprintf("%d stopped container(s) of the app are left behind.", len(exited)),
				"Remove them with docker rm "+cname(exited[0])+" (docker ps -a lists them); next time run with --rm so they go away on their own.", ev...)
		}
		if len(cs) == 0 {
			return result(StatusPass, "", "No old container of the app is left.", "", "no container of the app on the host")
		}
		return result(StatusPass, "", "Only the newest build of the app runs; nothing old is left.", "", ev...)
	})
}

// superseded reports whether a container runs an older build of the app:
// a newer image of the same kind (single-stage or multi-stage, as the
// course's topics build both side by side) that is not merely built FROM
// the container's image. The entrypoint topic's django-app:entrypoint only
// changes how django-app starts (it has django-app's layers), so it does
// not make the containers of django-app old; a rebuild after a change to
// the app's files has other layers and does.
func (d *dockerCache) superseded(ctx context.Context, c container.Summary, apps []appImage) bool {
	multi := c.Labels[labelBuild] == buildMulti
	for _, a := range apps { // newest first
		if (a.Labels[labelBuild] == buildMulti) != multi {
			continue
		}
		if a.ID == c.ImageID {
			return false
		}
		newer, err1 := d.imageInspect(ctx, a.ID)
		mine, err2 := d.imageInspect(ctx, c.ImageID)
		if err1 != nil || err2 != nil || newer.RootFS.Type == "" || mine.RootFS.Type == "" {
			return true
		}
		return !hasPrefix(newer.RootFS.Layers, mine.RootFS.Layers)
	}
	return false
}

// hasPrefix reports whether layers starts with base.
func hasPrefix(layers, base []string) bool {
	if len(base) == 0 || len(base) > len(layers) {
		return false
	}
	for i := range base {
		if layers[i] != base[i] {
			return false
		}
	}
	return true
}

// claimsPort8000 reports whether a container publishes, or asked to
// publish, host port 8000.
func claimsPort8000(ci container.InspectResponse) bool {
	if ci.HostConfig == nil {
		return false
	}
	for _, bs := range ci.HostConfig.PortBindings {
		for _, b := range bs {
			if b.HostPort == "8000" {
				return true
			}
		}
	}
	return false
}

func portFailed(ci container.InspectResponse) bool {
	if ci.State == nil {
		return false
	}
	e := ci.State.Error
	return strings.Contains(e, "port is already allocated") || strings.Contains(e, "address already in use")
}

func checkPortSingleOwner(ctx context.Context, env *Env) Result {
	return dockerOr(ctx, env, func(d *dockerCache) Result {
		var owners, failed []container.Summary
		var ev []string
		for _, c := range d.list {
			switch c.State {
			case container.StateRunning, container.StateRestarting, container.StatePaused:
				for _, p := range c.Ports {
					if p.PublicPort == 8000 {
						owners = append(owners, c)
						ev = append(ev, describe(c)+fmt.Sprintf(", publishes %s:%d->%d/%s", orAll(p.IP), p.PublicPort, p.PrivatePort, p.Type))
						break
					}
				}
			case container.StateCreated:
				// A docker run that failed to bind leaves a created container
				// whose inspect says why; only these need an inspect.
				ci, err := d.containerInspect(ctx, c.ID)
				if err == nil && claimsPort8000(ci) && portFailed(ci) {
					failed = append(failed, c)
					ev = append(ev, describe(c)+", could not start: "+ci.State.Error)
				}
			}
		}
		// One container can show several lines (IPv4 and IPv6) for one port.
		owners = uniqueContainers(owners)
		switch {
		case len(owners) > 1:
			return result(StatusFail, KindPortConflict, fmt.Sprintf("%d running containers publish host port 8000.", len(owners)),
				"Keep one: docker stop "+cname(owners[len(owners)-1])+" && docker rm "+cname(owners[len(owners)-1]), ev...)
		case len(failed) > 0 && (len(owners) == 0 || !d.createdAfter(ctx, owners[0].ID, failed[0].ID)):
			hint := "docker ps shows who holds port 8000; stop and remove it, remove the failed container (docker rm " + cname(failed[0]) + "), then run yours again."
			if len(owners) > 0 {
				hint = "Container " + cname(owners[0]) + " holds port 8000: docker stop " + cname(owners[0]) + " && docker rm " + cname(owners[0]) + ", then docker rm " + cname(failed[0]) + " and run yours again."
			}
			return result(StatusFail, KindPortAllocated, "A container could not start: port 8000 is already allocated.", hint, ev...)
		case len(failed) > 0:
			return result(StatusWarn, KindFailedAttempt, "Port 8000 has one owner now, but an earlier failed attempt is left behind.",
				"Remove it: docker rm "+cname(failed[0]), ev...)
		case len(owners) == 1:
			return result(StatusPass, "", "Only "+cname(owners[0])+" publishes host port 8000.", "", ev...)
		}
		return result(StatusPass, "", "Host port 8000 is free: no container claims it.", "")
	})
}

// createdAfter reports whether container a was created after b, to the
// nanosecond (docker ps rounds to seconds; a student's retry is quicker).
func (d *dockerCache) createdAfter(ctx context.Context, a, b string) bool {
	ca, err1 := d.containerInspect(ctx, a)
	cb, err2 := d.containerInspect(ctx, b)
	if err1 != nil || err2 != nil {
		return false
	}
	ta, err1 := time.Parse(time.RFC3339Nano, ca.Created)
	tb, err2 := time.Parse(time.RFC3339Nano, cb.Created)
	return err1 == nil && err2 == nil && ta.After(tb)
}

func uniqueContainers(cs []container.Summary) []container.Summary {
	seen := map[string]bool{}
	var out []container.Summary
	for _, c := range cs {
		if !seen[c.ID] {
			seen[c.ID] = true
			out = append(out, c)
		}
	}
	return out
}

// orAll shows an empty or unspecified bind address as 0.0.0.0, as docker ps does.
func orAll(ip string) string {
	if ip == "" {
		return "0.0.0.0"
	}
	return ip
}
