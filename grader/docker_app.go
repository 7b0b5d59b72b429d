package grader

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
)

// Labels the lab's Dockerfiles set; see content/lab.
const (
	labelLab       = "workshop.lab"
	labelBuild     = "workshop.lab.build"
	labDjango      = "django-app"
	labStatic      = "static-site"
	buildMulti     = "multi-stage"
	buildSingle    = "single-stage"
	maxCmdInspects = 10 // unlabelled images inspected to recognise the app by command
)

// appImage is an image recognised as the lab app.
type appImage struct {
	image.Summary
	how string // "label workshop.lab=django-app" or "its command runs manage.py"
}

// name is how docker images would show the image: a tag, else <none> and its id.
func (a appImage) name() string {
	if t := tags(a.Summary); len(t) > 0 {
		return t[0]
	}
	return "<none> " + short(a.ID)
}

// tags returns the image's repository tags without the <none>:<none> placeholder.
func tags(s image.Summary) []string {
	var out []string
	for _, t := range s.RepoTags {
		if t != "<none>:<none>" {
			out = append(out, t)
		}
	}
	return out
}

// runsApp reports whether a command line starts the Django app: the
// recognition for images built from a Dockerfile without the lab's labels.
func runsApp(cmd string) bool {
	cmd = strings.ToLower(cmd)
	for _, w := range []string{"manage.py", "gunicorn", "uwsgi", "wsgi"} {
		if strings.Contains(cmd, w) {
			return true
		}
	}
	return false
}

// appImages returns the lab app's images, newest first. Labelled images
// need no call; unlabelled ones are inspected (a few, newest first) to
// read their command.
func (d *dockerCache) appImages(ctx context.Context) []appImage {
	var out []appImage
	inspected := 0
	for _, s := range d.images {
		switch s.Labels[labelLab] {
		case labDjango:
			out = append(out, appImage{s, "label " + labelLab + "=" + labDjango})
			continue
		case "":
		default:
			continue // another lab's image, e.g. the static site
		}
		if inspected >= maxCmdInspects {
			continue
		}
		inspected++
		ii, err := d.imageInspect(ctx, s.ID)
		if err != nil || ii.Config == nil {
			continue
		}
		cmd := strings.Join(append(append([]string{}, ii.Config.Entrypoint...), ii.Config.Cmd...), " ")
		if runsApp(cmd) {
			out = append(out, appImage{s, "its command runs " + cmd})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Created != out[j].Created {
			return out[i].Created > out[j].Created
		}
		// docker images rounds to the second; two quick builds need the
		// inspect's nanoseconds to tell the newest.
		return d.imageCreated(ctx, out[i].ID).After(d.imageCreated(ctx, out[j].ID))
	})
	return out
}

// imageCreated is an image's creation time to the nanosecond.
func (d *dockerCache) imageCreated(ctx context.Context, id string) time.Time {
	ii, err := d.imageInspect(ctx, id)
	if err != nil {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, ii.Created)
	return t
}

// isAppContainer reports whether a container runs the lab app: its image is
// one, it carries the lab label (inherited from the image), or its command
// starts the app.
func isAppContainer(c container.Summary, apps []appImage) bool {
	if c.Labels[labelLab] == labDjango {
		return true
	}
	if c.Labels[labelLab] != "" {
		return false
	}
	for _, a := range apps {
		if a.ID == c.ImageID {
			return true
		}
	}
	return runsApp(c.Command)
}

// appContainers returns the app's containers, newest first (the order of
// docker ps -a).
func (d *dockerCache) appContainers(apps []appImage) []container.Summary {
	var out []container.Summary
	for _, c := range d.list {
		if isAppContainer(c, apps) {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created > out[j].Created })
	return out
}

// cname is the container's name as docker ps shows it.
func cname(c container.Summary) string {
	if len(c.Names) > 0 {
		return strings.TrimPrefix(c.Names[0], "/")
	}
	return short(c.ID)
}

// describe is one evidence line for a container.
func describe(c container.Summary) string {
	return fmt.Sprintf("container %s (%s) from %s: %s", cname(c), short(c.ID), c.Image, c.Status)
}

// ago renders a Unix time as "5 minutes ago" for evidence lines.
func ago(unix int64) string {
	d := time.Since(time.Unix(unix, 0)).Round(time.Second)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// mb renders a size in megabytes, as docker images does.
func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// dockerOr runs body with the host's snapshot, or turns a failure to reach
// the host into an error result carrying the reachability diagnosis.
func dockerOr(ctx context.Context, env *Env, body func(d *dockerCache) Result) Result {
	d, err := env.dockerBase(ctx)
	if err != nil {
		dg := diagnoseDocker(err, env)
		r := result(StatusError, dg.kind, "Could not read the Docker host: "+dg.summary, dg.hint, dg.evidence...)
		return r
	}
	return body(d)
}

// logEvidence turns a log tail into evidence lines.
func logEvidence(logs string) []string {
	if logs == "" {
		return []string{"(the container wrote nothing to its log)"}
	}
	lines := strings.Split(logs, "\n")
	out := make([]string, 0, len(lines)+1)
	out = append(out, "last lines of its log:")
	for _, l := range lines {
		out = append(out, "  "+l)
	}
	return out
}
