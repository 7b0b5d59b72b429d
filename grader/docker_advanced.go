package grader

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/container"
)

// Near-miss kinds of the advanced topics' checks.
const (
	KindDefaultBridge     = "default-bridge"
	KindAloneOnNetwork    = "alone-on-network"
	KindAppNotOnNetwork   = "app-not-on-network"
	KindNoUserNetwork     = "no-user-network"
	KindNoMultiStage      = "no-multi-stage"
	KindNothingToCompare  = "nothing-to-compare"
	KindNotSmaller        = "not-smaller"
	KindMissingPackages   = "missing-packages"
	KindCmdOnly           = "cmd-only"
	KindEntrypointOnly    = "entrypoint-only"
	KindNoEntrypointOrCmd = "no-entrypoint-or-cmd"
)

func init() {
	register(checkFunc{"user-network-with-app", "The app shares a user-defined network with a second container", checkUserNetwork})
	register(checkFunc{"multi-stage-image-smaller", "A multi-stage image of the app is smaller than the single-stage one", checkMultiStageSmaller})
	register(checkFunc{"multi-stage-container-runs", "A container of the multi-stage image runs", checkMultiStageRuns})
	register(checkFunc{"image-entrypoint-and-cmd", "An image of the app has an ENTRYPOINT and a default CMD", checkEntrypointAndCmd})
}

func running(c container.Summary) bool { return c.State == container.StateRunning }

func checkUserNetwork(ctx context.Context, env *Env) Result {
	return dockerOr(ctx, env, func(d *dockerCache) Result {
		nets, err := d.networks(ctx)
		if err != nil {
			return result(StatusError, KindDockerError, "Could not list networks.", "", err.Error())
		}
		userBridge := map[string]bool{}
		for _, n := range nets {
			if n.Driver == "bridge" && n.Name != "bridge" {
				userBridge[n.Name] = true
			}
		}
		apps := d.appImages(ctx)
		members := map[string][]container.Summary{} // running containers per network
		appOnDefault := false
		for _, c := range d.list {
			if !running(c) || c.NetworkSettings == nil {
				continue
			}
			for name := range c.NetworkSettings.Networks {
				members[name] = append(members[name], c)
				if name == "bridge" && isAppContainer(c, apps) {
					appOnDefault = true
				}
			}
		}
		names := make([]string, 0, len(userBridge))
		for n := range userBridge {
			names = append(names, n)
		}
		sort.Strings(names)
		var ev []string
		var alone, appless string
		for _, n := range names {
			var list []string
			app := false
			for _, c := range members[n] {
				list = append(list, cname(c))
				app = app || isAppContainer(c, apps)
			}
			ev = append(ev, fmt.Sprintf("network %s: %s", n, strings.Join(list, ", ")))
			switch {
			case app && len(members[n]) >= 2:
				return result(StatusPass, "", fmt.Sprintf("Network %s connects the app with %d other container(s).", n, len(members[n])-1), "", ev...)
			case app && alone == "":
				alone = n
			case !app && len(members[n]) > 0 && appless == "":
				appless = n
			}
		}
		switch {
		case alone != "":
			return result(StatusFail, KindAloneOnNetwork, "The app is alone on network "+alone+".",
				"Attach a second container: docker run -d --name client --network "+alone+" <image>, or docker network connect "+alone+" <container_id>.", ev...)
		case appless != "":
			return result(StatusFail, KindAppNotOnNetwork, "Network "+appless+" has containers, but not the app.",
				"Connect the app: docker network connect "+appless+" <container_id> (or run it with --network "+appless+").", ev...)
		case appOnDefault && len(members["bridge"]) >= 2:
			return result(StatusFail, KindDefaultBridge, "The app and another container share only the default bridge network.",
				"On the default bridge containers cannot find each other by name. Create a network and attach both: docker network create workshop-net, run the app with --network workshop-net, then docker network connect workshop-net <container_id> for the other one.", ev...)
		}
		return result(StatusFail, KindNoUserNetwork, "No user-defined network with the app on it.",
			"docker network create workshop-net, then run the app and a second container with --network workshop-net (or start the lab's compose.yaml, which uses the network labnet: docker compose up --build -d).", ev...)
	})
}

// stageImages splits the app's images into multi-stage and single-stage
// builds (an app image without the build label counts as single-stage).
func stageImages(apps []appImage) (multi, single []appImage) {
	for _, a := range apps {
		if a.Labels[labelBuild] == buildMulti {
			multi = append(multi, a)
		} else {
			single = append(single, a)
		}
	}
	return multi, single
}

const multiBuildHint = "In django-app: docker build -f Dockerfile.multistage -t django-app:multi ."

func checkMultiStageSmaller(ctx context.Context, env *Env) Result {
	return dockerOr(ctx, env, func(d *dockerCache) Result {
		multi, single := stageImages(d.appImages(ctx))
		ev := imageEvidence(append(append([]appImage{}, multi...), single...))
		switch {
		case len(multi) == 0:
			return result(StatusFail, KindNoMultiStage, "No multi-stage image of the app yet.", multiBuildHint, ev...)
		case len(single) == 0:
			return result(StatusWarn, KindNothingToCompare, "The multi-stage image is built, but there is no single-stage image to compare it with.",
				"Build the single-stage one too: docker build -t django-app .", ev...)
		}
		m, s := multi[0], single[0]
		if m.Size < s.Size {
			saved := 100 - 100*float64(m.Size)/float64(s.Size)
			return result(StatusPass, "", fmt.Sprintf("The multi-stage image is %s, %.0f%% smaller than the single-stage %s.", mb(m.Size), saved, mb(s.Size)), "", ev...)
		}
		return result(StatusFail, KindNotSmaller, fmt.Sprintf("The multi-stage image (%s) is not smaller than the single-stage one (%s).", mb(m.Size), mb(s.Size)),
			"The runtime stage should start FROM python:3.13-slim and copy only what the app needs (COPY --from=builder /install /usr/local), with pip install --no-cache-dir in the builder.", ev...)
	})
}

func checkMultiStageRuns(ctx context.Context, env *Env) Result {
	return dockerOr(ctx, env, func(d *dockerCache) Result {
		multi, _ := stageImages(d.appImages(ctx))
		ids := map[string]bool{}
		for _, m := range multi {
			ids[m.ID] = true
		}
		var cs []container.Summary
		for _, c := range d.list {
			if ids[c.ImageID] || c.Labels[labelBuild] == buildMulti {
				cs = append(cs, c)
			}
		}
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].Created > cs[j].Created })
		for _, c := range cs {
			if running(c) {
				return result(StatusPass, "", "Container "+cname(c)+" of the multi-stage image runs.", "", describe(c))
			}
		}
		if len(cs) == 0 {
			if len(multi) == 0 {
				return result(StatusFail, KindNoMultiStage, "No multi-stage image of the app yet.", multiBuildHint)
			}
			return result(StatusFail, KindNoContainer, "No container of the multi-stage image yet.",
				"Run it next to your web container, on host port 8001: docker run -d --name web-multi -p 8001:8000 -e DJANGO_ALLOWED_HOSTS=<host_ip>,localhost django-app:multi", imageEvidence(multi)...)
		}
		c := cs[0]
		ci, _ := d.containerInspect(ctx, c.ID)
		logs := d.logTail(ctx, c.ID, ci.Config != nil && ci.Config.Tty)
		stateErr := ""
		if ci.State != nil {
			stateErr = ci.State.Error
		}
		ev := append([]string{describe(c)}, logEvidence(logs)...)
		if stateErr != "" {
			ev = append(ev, "error: "+stateErr)
		}
		if strings.Contains(logs, "No module named 'django'") || strings.Contains(logs, "No module named django") ||
			strings.Contains(stateErr, "executable file not found") {
			return result(StatusFail, KindMissingPackages,
				"The multi-stage container stops at once: Python cannot find Django in the final image.",
				"Each FROM starts a fresh image: what pip installed in the builder stage stays there. Install into a prefix in the builder "+
					"(pip install --no-cache-dir --prefix=/install -r requirements.txt) and copy it into the runtime stage: COPY --from=builder /install /usr/local. Then rebuild and run again.",
				ev...)
		}
		return result(StatusFail, KindContainerExited, "The multi-stage container "+cname(c)+" is not running ("+c.Status+").",
			"Read docker logs "+cname(c)+" and fix what it says, then run it again. "+crashHint(logs), ev...)
	})
}

func checkEntrypointAndCmd(ctx context.Context, env *Env) Result {
	return dockerOr(ctx, env, func(d *dockerCache) Result {
		// The app's images, plus any other image built from the lab.
		cands := d.appImages(ctx)
		seen := map[string]bool{}
		for _, a := range cands {
			seen[a.ID] = true
		}
		for _, s := range d.images {
			if s.Labels[labelLab] != "" && !seen[s.ID] {
				cands = append(cands, appImage{s, "label " + labelLab + "=" + s.Labels[labelLab]})
			}
		}
		if len(cands) == 0 {
			return noAppImage(d)
		}
		var ev []string
		kind := KindNoEntrypointOrCmd
		for i, a := range cands {
			if i >= maxCmdInspects {
				break
			}
			ii, err := d.imageInspect(ctx, a.ID)
			if err != nil || ii.Config == nil {
				continue
			}
			ep, cmd := ii.Config.Entrypoint, ii.Config.Cmd
			ev = append(ev, fmt.Sprintf("image %s: ENTRYPOINT %s, CMD %s", a.name(), jsonList(ep), jsonList(cmd)))
			switch {
			case len(ep) > 0 && len(cmd) > 0:
				return result(StatusPass, "", "Image "+a.name()+" has ENTRYPOINT "+jsonList(ep)+" and default CMD "+jsonList(cmd)+".", "", ev...)
			case len(cmd) > 0 && kind == KindNoEntrypointOrCmd:
				kind = KindCmdOnly
			case len(ep) > 0 && kind != KindEntrypointOnly:
				kind = KindEntrypointOnly
			}
		}
		switch kind {
		case KindCmdOnly:
			return result(StatusFail, KindCmdOnly, "The app's images have a CMD but no ENTRYPOINT.",
				`Build an image FROM django-app that splits the command: ENTRYPOINT ["python", "manage.py"] and CMD ["runserver", "0.0.0.0:8000"] in Dockerfile.entrypoint, then docker build -f Dockerfile.entrypoint -t django-app:entrypoint . and try docker run --rm django-app:entrypoint check: the argument replaces only CMD.`, ev...)
		case KindEntrypointOnly:
			return result(StatusFail, KindEntrypointOnly, "The app's images have an ENTRYPOINT but no default CMD.",
				`Add default arguments: CMD ["runserver", "0.0.0.0:8000"], so docker run with no arguments still starts the app.`, ev...)
		}
		return result(StatusFail, KindNoEntrypointOrCmd, "The app's images have neither ENTRYPOINT nor CMD.",
			`Build an image FROM django-app with ENTRYPOINT ["python", "manage.py"] and CMD ["runserver", "0.0.0.0:8000"]: docker build -f Dockerfile.entrypoint -t django-app:entrypoint .`, ev...)
	})
}

// jsonList shows a command as the Dockerfile's exec form.
func jsonList(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return `["` + strings.Join(s, `", "`) + `"]`
}
