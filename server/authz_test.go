package server

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coursekit/workshop/store"
)

// The authorization matrix: every route Echo knows × every kind of
// person → the status they get. A route missing here fails the test, so
// whoever adds a route adds its row. Requests carry a valid CSRF token and
// an empty body (an empty form, or {} for the JSON API): the matrix is
// about who may, not about input. Each cell runs against a fresh world.
//
// Columns: anonymous, student of A, student of B, instructor of A,
// instructor of B, admin.
var authzMatrix = map[string]statuses{
	"GET /healthz":       all(200),
	"GET /readyz":        all(200),
	"GET /static/*":      all(200),
	"HEAD /static/*":     all(200),
	"GET /":              all(200),
	"GET /signin":        all(200),
	"POST /signin":       all(422),
	"POST /signout":      all(303),
	"GET /setup/:token":  all(200),
	"POST /setup/:token": all(422),
	"GET /reset/:token":  all(200),
	"POST /reset/:token": all(422),
	"GET /join":          all(200),
	"GET /join/:code":    all(200),
	"POST /join/:code":   row(422, 303, 303, 303, 303, 303),

	"GET /account":                               row(303, 200, 200, 200, 200, 200),
	"POST /account":                              row(303, 422, 422, 422, 422, 422),
	"POST /account/password":                     row(303, 422, 422, 422, 422, 422),
	"POST /account/tokens":                       row(303, 422, 422, 422, 422, 422),
	"POST /account/tokens/:id/revoke":            row(303, 303, 404, 404, 404, 404), // StudentA's token
	"GET /cohorts":                               row(303, 403, 403, 200, 200, 200),
	"POST /cohorts":                              row(303, 403, 403, 422, 422, 422),
	"GET /cohorts/:id":                           row(303, 403, 403, 200, 403, 200),
	"POST /cohorts/:id/settings":                 row(303, 403, 403, 422, 403, 422),
	"POST /cohorts/:id/join-code":                row(303, 403, 403, 303, 403, 303),
	"POST /cohorts/:id/instructors":              row(303, 403, 403, 422, 403, 422),
	"POST /cohorts/:id/members/:user/remove":     row(303, 403, 403, 303, 403, 303),
	"POST /cohorts/:id/members/:user/reset-link": row(303, 403, 403, 200, 403, 200),
	"GET /admin/users":                           row(303, 403, 403, 403, 403, 200),
	"POST /admin/users/:id/role":                 row(303, 403, 403, 403, 403, 422), // StudentB's account
	"POST /admin/invites":                        row(303, 403, 403, 403, 403, 200),
	"POST /admin/users/:id/reset-link":           row(303, 403, 403, 403, 403, 200), // StudentB's account

	"POST /api/v1/tokens":                               row(401, 422, 422, 422, 422, 422),
	"GET /api/v1/me":                                    row(401, 200, 200, 200, 200, 200),
	"GET /api/v1/cohorts":                               row(401, 403, 403, 200, 200, 200),
	"POST /api/v1/cohorts":                              row(401, 403, 403, 422, 422, 422),
	"GET /api/v1/cohorts/:id":                           row(401, 403, 403, 200, 403, 200),
	"PUT /api/v1/cohorts/:id":                           row(401, 403, 403, 200, 403, 200),
	"POST /api/v1/cohorts/:id/join-code":                row(401, 403, 403, 200, 403, 200),
	"GET /api/v1/cohorts/:id/members":                   row(401, 403, 403, 200, 403, 200),
	"DELETE /api/v1/cohorts/:id/members/:user":          row(401, 403, 403, 204, 403, 204),
	"POST /api/v1/cohorts/:id/members/:user/reset-link": row(401, 403, 403, 201, 403, 201),
	"POST /api/v1/cohorts/:id/instructors":              row(401, 403, 403, 422, 403, 422),
	"GET /api/v1/users":                                 row(401, 403, 403, 403, 403, 200),
	"POST /api/v1/users/:id/reset-link":                 row(401, 403, 403, 403, 403, 201), // StudentB's account
	"PUT /api/v1/users/:id":                             row(401, 403, 403, 403, 403, 422), // StudentB's account; {} names no role
	"POST /api/v1/instructor-invites":                   row(401, 403, 403, 403, 403, 201),

	// The course is public; checks, quizzes and the target page need a
	// signed-in person. Without a target, a check stores "not configured"
	// results and returns to the step.
	"GET /guide":                   all(303),
	"GET /guide/:variant":          all(200),
	"GET /guide/:variant/:id":      all(200),
	"GET /topics/:id":              all(200),
	"GET /bonus/:id":               all(200),
	"POST /steps/:id/check":        row(303, 303, 303, 303, 303, 303),
	"POST /quizzes/:id":            row(303, 303, 303, 303, 303, 303),
	"POST /api/v1/steps/:id/check": row(401, 200, 200, 200, 200, 200),
	"POST /api/v1/quizzes/:id":     row(401, 200, 200, 200, 200, 200),
	"GET /lab":                     all(200),
	"GET /lab/workshop-lab.tar.gz": all(200),
	"GET /lab/workshop-lab.git/*":  all(200),
	"GET /target":                  row(303, 200, 200, 200, 200, 200),
	"POST /target":                 row(303, 422, 422, 422, 422, 422),
	"POST /target/test":            row(303, 200, 200, 200, 200, 200),

	// The agent and the one-command setups. The agent's websocket needs
	// its bearer token (none here: 401); the internal hop does not exist
	// without a shared secret (none here: 404); the TLS upload's link is
	// its only authority (an unknown link: 404 for everyone).
	"POST /target/agent-token":        row(303, 200, 200, 200, 200, 200),
	"POST /target/agent-token/revoke": row(303, 303, 303, 303, 303, 303),
	"GET /agent/connect":              all(401),
	"GET /internal/agent-dial":        all(404),
	"GET /agent/install.sh":           all(200),
	"GET /downloads/:file":            all(200),
	"GET /connect/docker-tls.sh":      all(200),
	"POST /connect/docker-tls/:token": all(404),
	"GET /connect/readonly-role.yaml": all(200),

	// Progress and the cohort dashboard (the event stream ends quickly in
	// this test: see StreamFor below).
	"GET /progress":                              row(303, 200, 200, 200, 200, 200),
	"GET /cohorts/:id/dashboard":                 row(303, 403, 403, 200, 403, 200),
	"GET /cohorts/:id/dashboard/row/:user":       row(303, 403, 403, 200, 403, 200),
	"GET /cohorts/:id/events":                    row(303, 403, 403, 200, 403, 200),
	"GET /cohorts/:id/students/:user":            row(303, 403, 403, 200, 403, 200),
	"GET /cohorts/:id/stuck":                     row(303, 403, 403, 200, 403, 200),
	"GET /cohorts/:id/export.csv":                row(303, 403, 403, 200, 403, 200),
	"GET /cohorts/:id/export.json":               row(303, 403, 403, 200, 403, 200),
	"POST /cohorts/:id/regrade":                  row(303, 403, 403, 422, 403, 422),
	"POST /cohorts/:id/regrades/:regrade/cancel": row(303, 403, 403, 303, 403, 303),
	"GET /admin/cohorts":                         row(303, 403, 403, 403, 403, 200),

	// The free-tier calculator is public. The matrix's body {} has no
	// instance group: a 422 about the input, the same for everyone.
	"GET /freetier":         all(200),
	"GET /api/v1/freetier":  all(200),
	"POST /api/v1/freetier": all(422),
}

// authzPaths gives the concrete path for a route whose parameters are not
// the defaults of authzParams.
var authzPaths = map[string]func(w *world) string{
	"GET /guide/:variant":              func(*world) string { return "/guide/concepts" },
	"GET /guide/:variant/:id":          func(*world) string { return "/guide/guided/publish-port" },
	"GET /topics/:id":                  func(*world) string { return "/topics/docker-networking" },
	"GET /bonus/:id":                   func(*world) string { return "/bonus/free-tier-instances" },
	"POST /steps/:id/check":            func(*world) string { return "/steps/build-image/check" },
	"POST /api/v1/steps/:id/check":     func(*world) string { return "/api/v1/steps/build-image/check" },
	"POST /quizzes/:id":                func(*world) string { return "/quizzes/publish-port" },
	"POST /api/v1/quizzes/:id":         func(*world) string { return "/api/v1/quizzes/publish-port" },
	"GET /lab/workshop-lab.git/*":      func(*world) string { return "/lab/workshop-lab.git/info/refs" },
	"POST /account/tokens/:id/revoke":  func(w *world) string { return fmt.Sprintf("/account/tokens/%d/revoke", w.TokenA) },
	"POST /admin/users/:id/role":       func(w *world) string { return fmt.Sprintf("/admin/users/%d/role", w.StudentB.ID) },
	"POST /admin/users/:id/reset-link": func(w *world) string { return fmt.Sprintf("/admin/users/%d/reset-link", w.StudentB.ID) },
	"POST /api/v1/users/:id/reset-link": func(w *world) string {
		return fmt.Sprintf("/api/v1/users/%d/reset-link", w.StudentB.ID)
	},
	"PUT /api/v1/users/:id": func(w *world) string { return fmt.Sprintf("/api/v1/users/%d", w.StudentB.ID) },
	"GET /reset/:token":     func(w *world) string { return "/reset/" + w.ResetToken },
	"POST /reset/:token":    func(w *world) string { return "/reset/" + w.ResetToken },
}

// authzParams fills path parameters by name: cohort A's ids by default.
var authzParams = map[string]func(w *world) string{
	"id":      func(w *world) string { return fmt.Sprint(w.CohortA.ID) },
	"user":    func(w *world) string { return fmt.Sprint(w.StudentA.ID) },
	"code":    func(w *world) string { return w.CohortA.JoinCode },
	"token":   func(w *world) string { return w.SetupToken },
	"*":       func(w *world) string { return "app.css" },
	"file":    func(*world) string { return "SHA256SUMS" },
	"regrade": func(w *world) string { return fmt.Sprint(w.RegradeA) },
}

// statuses is one matrix row, in the column order above.
type statuses [6]int

func row(anon, studentA, studentB, instructorA, instructorB, admin int) statuses {
	return statuses{anon, studentA, studentB, instructorA, instructorB, admin}
}

func all(code int) statuses { return statuses{code, code, code, code, code, code} }

var authzColumns = [6]string{"anonymous", "student A", "student B", "instructor A", "instructor B", "admin"}

// authzPath fills a route's parameters for this world.
func authzPath(route string, w *world) (string, error) {
	if f, ok := authzPaths[route]; ok {
		return f(w), nil
	}
	_, pattern, _ := strings.Cut(route, " ")
	parts := strings.Split(pattern, "/")
	for i, p := range parts {
		name := ""
		switch {
		case strings.HasPrefix(p, ":"):
			name = p[1:]
		case p == "*":
			name = "*"
		default:
			continue
		}
		f, ok := authzParams[name]
		if !ok {
			return "", fmt.Errorf("no value for path parameter %q: add it to authzParams or the route to authzPaths", name)
		}
		parts[i] = f(w)
	}
	return strings.Join(parts, "/"), nil
}

func TestAuthorizationMatrix(t *testing.T) {
	downloads := t.TempDir()
	if err := os.WriteFile(filepath.Join(downloads, "SHA256SUMS"), []byte(strings.Repeat("0", 64)+"  workshop-linux-amd64\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(o *Options) {
		o.Live.StreamFor = 50 * time.Millisecond
		o.Agent.DownloadsDir = downloads
	})
	seen := map[string]bool{}
	var routes []string
	for _, r := range h.Srv.echo.Routes() {
		key := r.Method + " " + r.Path
		if seen[key] {
			continue
		}
		seen[key] = true
		routes = append(routes, key)
	}
	sort.Strings(routes)
	for _, route := range routes {
		want, ok := authzMatrix[route]
		if !ok {
			t.Errorf("route %q has no row in authzMatrix (server/authz_test.go): add one", route)
			continue
		}
		t.Run(route, func(t *testing.T) {
			t.Parallel()
			h := h.sub(t)
			method, _, _ := strings.Cut(route, " ")
			for col := range authzColumns {
				w := h.world()
				c := h.sessionClient(w.column(col))
				path, err := authzPath(route, w)
				if err != nil {
					t.Fatal(err)
				}
				var resp *http.Response
				switch {
				case method == http.MethodGet || method == http.MethodHead:
					resp = h.do(c, method, path, "", nil)
				case strings.HasPrefix(path, "/api/"):
					resp = h.api(c, method, path, "{}", "")
				default:
					resp = h.postForm(c, path, nil)
				}
				got := resp.StatusCode
				text := readBody(resp)
				if got != want[col] {
					t.Errorf("%s as %s: got %d, want %d (%.200s)", path, authzColumns[col], got, want[col], text)
				}
			}
		})
	}
	for route := range authzMatrix {
		if !seen[route] {
			t.Errorf("authzMatrix has a row for %q, which is not a registered route", route)
		}
	}
}

// column is the person of a matrix column (nil: anonymous).
func (w *world) column(col int) *store.User {
	return []*store.User{nil, w.StudentA, w.StudentB, w.InstructorA, w.InstructorB, w.Admin}[col]
}
