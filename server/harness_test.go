package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/store/storetest"
	"github.com/coursekit/workshop/web"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// testPassword is every harness user's password.
const testPassword = "correct horse battery"

// harness is a Server on a fresh database behind a real HTTP listener.
// Reuse it in any server test:
//
//	h := newHarness(t)
//	w := h.world()                       // users of each role, cohorts A and B
//	c := h.signIn(w.InstructorA)          // an *http.Client with a session
//	resp := h.postForm(c, "/cohorts", url.Values{"name": {"X"}})
type harness struct {
	t    testing.TB
	DB   *store.DB
	Srv  *Server
	TS   *httptest.Server
	hash string // testPassword, hashed once
}

var harnessSeq atomic.Int64

// testLogWriter sends log lines to the test's log.
type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// newHarness starts a server on a fresh database; opts may adjust the
// Options before the server is built.
func newHarness(t testing.TB, opts ...func(*Options)) *harness {
	t.Helper()
	db := storetest.New(t)
	sealer, err := store.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	db.SetSealer(sealer)
	renderer, err := web.New(nil)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	// Server errors (5xx) show in the test's log; the rest is quiet.
	logger := slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelError}))
	o := Options{DB: db, Web: renderer, Log: logger, Version: "test", Lab: labForTests(t)}
	for _, f := range opts {
		f(&o)
	}
	srv, err := New(o)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &harness{t: t, DB: db, Srv: srv, TS: ts, hash: hashPassword(testPassword)}
}

// sub returns the harness for a subtest, so failures land on it (needed
// in parallel subtests).
func (h *harness) sub(t testing.TB) *harness {
	c := *h
	c.t = t
	return &c
}

// createUser makes an account with testPassword.
func (h *harness) createUser(role string) *store.User {
	h.t.Helper()
	n := harnessSeq.Add(1)
	u, err := h.DB.CreateUser(context.Background(), store.NewUser{
		Email: fmt.Sprintf("%s%d@example.org", role, n), Name: fmt.Sprintf("%s %d", role, n), Role: role, PasswordHash: h.hash})
	if err != nil {
		h.t.Fatalf("create user: %v", err)
	}
	return u
}

// createCohort makes a cohort taught by instructor.
func (h *harness) createCohort(name string, instructor *store.User) *store.Cohort {
	h.t.Helper()
	c, err := h.DB.CreateCohort(context.Background(), store.CohortSettings{Name: name, JoinOpen: true, DefaultVariant: "guided", PassMark: 0.7},
		newJoinCode(), instructor.ID)
	if err != nil {
		h.t.Fatalf("create cohort: %v", err)
	}
	return c
}

// addStudent puts a user in a cohort as a student.
func (h *harness) addStudent(c *store.Cohort, u *store.User) {
	h.t.Helper()
	if err := h.DB.AddMember(context.Background(), c.ID, u.ID, store.RoleStudent); err != nil {
		h.t.Fatalf("add member: %v", err)
	}
}

// world is one of each kind of person, and two cohorts.
type world struct {
	StudentA, StudentB, InstructorA, InstructorB, Admin *store.User
	CohortA, CohortB                                    *store.Cohort
	SetupToken                                          string // an unused instructor invitation
	ResetToken                                          string // an unused password reset link of StudentA
	RegradeA                                            int64  // a regrade of cohort A, under way (no jobs queued)
	TokenA                                              int64  // an API token of StudentA
}

// world creates a fresh set of people and cohorts (several can share one
// database: every email is unique).
func (h *harness) world() *world {
	h.t.Helper()
	w := &world{
		StudentA: h.createUser(store.RoleStudent), StudentB: h.createUser(store.RoleStudent),
		InstructorA: h.createUser(store.RoleInstructor), InstructorB: h.createUser(store.RoleInstructor),
		Admin: h.createUser(store.RoleAdmin),
	}
	w.CohortA = h.createCohort("Cohort A", w.InstructorA)
	w.CohortB = h.createCohort("Cohort B", w.InstructorB)
	h.addStudent(w.CohortA, w.StudentA)
	h.addStudent(w.CohortB, w.StudentB)
	ctx := context.Background()
	w.SetupToken = newToken()
	if err := h.DB.CreateSetupToken(ctx, hashToken(w.SetupToken), store.RoleInstructor, &w.Admin.ID, time.Now().Add(time.Hour)); err != nil {
		h.t.Fatal(err)
	}
	w.ResetToken = newToken()
	if err := h.DB.CreatePasswordReset(ctx, w.StudentA.ID, &w.InstructorA.ID, hashToken(w.ResetToken), time.Now().Add(time.Hour)); err != nil {
		h.t.Fatal(err)
	}
	if err := h.DB.Transact(ctx, func(tx pgx.Tx) error {
		r, _, err := store.CreateRegrade(ctx, tx, w.CohortA.ID, "build-image", w.InstructorA.ID)
		if err == nil {
			w.RegradeA = r.ID
		}
		return err
	}); err != nil {
		h.t.Fatal(err)
	}
	t, err := h.DB.CreateAPIToken(ctx, w.StudentA.ID, "a", hashToken(newToken()))
	if err != nil {
		h.t.Fatal(err)
	}
	w.TokenA = t.ID
	return w
}

// client returns an anonymous client with a cookie jar that does not
// follow redirects (tests look at the 303 itself).
func (h *harness) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// sessionClient returns a client signed in as u without going through the
// sign-in form (fast: no password hashing), with a CSRF cookie.
func (h *harness) sessionClient(u *store.User) *http.Client {
	h.t.Helper()
	c := h.client()
	if u == nil {
		return c
	}
	tok := newToken()
	err := h.DB.CreateSession(context.Background(), store.Session{TokenHash: hashToken(tok), UserID: u.ID, ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		h.t.Fatal(err)
	}
	base, _ := url.Parse(h.TS.URL)
	c.Jar.SetCookies(base, []*http.Cookie{{Name: sessionCookie, Value: tok, Path: "/"}})
	return c
}

// signIn signs u in through the real form and returns the client.
func (h *harness) signIn(u *store.User) *http.Client {
	h.t.Helper()
	c := h.client()
	resp := h.postForm(c, "/signin", url.Values{"email": {u.Email}, "password": {testPassword}})
	if resp.StatusCode != http.StatusSeeOther {
		h.t.Fatalf("sign in %s: status %d: %s", u.Email, resp.StatusCode, readBody(resp))
	}
	resp.Body.Close()
	return c
}

// cookie returns the value of a cookie the client holds, or "".
func (h *harness) cookie(c *http.Client, name string) string {
	base, _ := url.Parse(h.TS.URL)
	for _, ck := range c.Jar.Cookies(base) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// csrf returns the client's CSRF token, fetching a page to get one first.
func (h *harness) csrf(c *http.Client) string {
	h.t.Helper()
	if v := h.cookie(c, csrfCookie); v != "" {
		return v
	}
	resp := h.get(c, "/signin")
	resp.Body.Close()
	v := h.cookie(c, csrfCookie)
	if v == "" {
		h.t.Fatal("no CSRF cookie after GET /signin")
	}
	return v
}

// get fetches path.
func (h *harness) get(c *http.Client, path string) *http.Response {
	h.t.Helper()
	return h.do(c, http.MethodGet, path, "", nil)
}

// postForm posts a form with the client's CSRF token added.
func (h *harness) postForm(c *http.Client, path string, v url.Values) *http.Response {
	h.t.Helper()
	if v == nil {
		v = url.Values{}
	}
	if v.Get("_csrf") == "" {
		v.Set("_csrf", h.csrf(c))
	}
	return h.do(c, http.MethodPost, path, v.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

// api sends a JSON request with the session's CSRF header (or a bearer
// token when bearer is not empty).
func (h *harness) api(c *http.Client, method, path, jsonBody, bearer string) *http.Response {
	h.t.Helper()
	hdr := map[string]string{"Content-Type": "application/json", "Accept": "application/json"}
	if bearer != "" {
		hdr["Authorization"] = "Bearer " + bearer
	} else if method != http.MethodGet {
		hdr["X-CSRF-Token"] = h.csrf(c)
	}
	return h.do(c, method, path, jsonBody, hdr)
}

// do sends any request.
func (h *harness) do(c *http.Client, method, path, reqBody string, hdr map[string]string) *http.Response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.TS.URL+path, strings.NewReader(reqBody))
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// readBody reads and closes a response body.
func readBody(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(b)
}
