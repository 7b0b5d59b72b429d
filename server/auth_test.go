package server

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coursekit/workshop/store"
)

func findCookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestCookieFlags(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       func(*Options)
		tls        bool
		wantSecure bool
	}{
		{"plain http", nil, false, false},
		{"https base URL", func(o *Options) { o.BaseURL = "https://course.example.org" }, false, true},
		{"TLS request", nil, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []func(*Options)
			if tc.opts != nil {
				opts = append(opts, tc.opts)
			}
			h := newHarness(t, opts...)
			c := h.client()
			if tc.tls {
				ts := httptest.NewUnstartedServer(h.Srv.Handler())
				ts.StartTLS()
				t.Cleanup(ts.Close)
				h.TS = ts
				c.Transport = ts.Client().Transport
			}
			u := h.createUser(store.RoleStudent)
			resp := h.get(c, "/signin")
			csrf := findCookie(resp, csrfCookie)
			readBody(resp)
			if csrf == nil {
				t.Fatal("GET /signin set no CSRF cookie")
			}
			resp = h.postForm(c, "/signin", url.Values{"email": {u.Email}, "password": {testPassword}})
			readBody(resp)
			sess := findCookie(resp, sessionCookie)
			if resp.StatusCode != http.StatusSeeOther || sess == nil {
				t.Fatalf("sign-in: status %d, session cookie %v", resp.StatusCode, sess)
			}
			for _, ck := range []*http.Cookie{csrf, sess} {
				if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure != tc.wantSecure {
					t.Errorf("cookie %s: HttpOnly=%v SameSite=%v Path=%q Secure=%v; want HttpOnly, Lax, /, Secure=%v",
						ck.Name, ck.HttpOnly, ck.SameSite, ck.Path, ck.Secure, tc.wantSecure)
				}
			}
			if sess.MaxAge < int((13 * 24 * time.Hour).Seconds()) {
				t.Errorf("session cookie MaxAge %d, want about 14 days", sess.MaxAge)
			}
		})
	}
}

// sessionCount counts a user's sessions in the database.
func (h *harness) sessionCount(u *store.User) int {
	h.t.Helper()
	var n int
	if err := h.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM sessions WHERE user_id = $1`, u.ID).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// status GETs path and returns the status code.
func (h *harness) status(c *http.Client, path string) int {
	resp := h.get(c, path)
	readBody(resp)
	return resp.StatusCode
}

// clientWithSession returns a fresh client carrying a given session token.
func (h *harness) clientWithSession(tok string) *http.Client {
	c := h.client()
	base, _ := url.Parse(h.TS.URL)
	c.Jar.SetCookies(base, []*http.Cookie{{Name: sessionCookie, Value: tok, Path: "/"}})
	return c
}

func TestSessionRotatedAtSignIn(t *testing.T) {
	h := newHarness(t)
	u := h.createUser(store.RoleStudent)
	// A token planted before sign-in (session fixation) and a previous
	// session of the same browser must both be worthless afterwards.
	c := h.clientWithSession("planted-by-someone-else")
	h.csrf(c)
	resp := h.postForm(c, "/signin", url.Values{"email": {u.Email}, "password": {testPassword}})
	readBody(resp)
	first := h.cookie(c, sessionCookie)
	if first == "" || first == "planted-by-someone-else" {
		t.Fatalf("session cookie after sign-in = %q; want a new token", first)
	}
	resp = h.postForm(c, "/signin", url.Values{"email": {u.Email}, "password": {testPassword}})
	readBody(resp)
	second := h.cookie(c, sessionCookie)
	if second == first || second == "" {
		t.Fatalf("signing in again kept the session token")
	}
	if got := h.status(h.clientWithSession(first), "/account"); got != http.StatusSeeOther {
		t.Errorf("old session after re-sign-in: GET /account = %d, want 303", got)
	}
	if got := h.status(c, "/account"); got != http.StatusOK {
		t.Errorf("new session: GET /account = %d, want 200", got)
	}
	if n := h.sessionCount(u); n != 1 {
		t.Errorf("%d sessions in the database, want 1", n)
	}
	var stored []byte
	if err := h.DB.Pool.QueryRow(context.Background(), `SELECT token_hash FROM sessions WHERE user_id = $1`, u.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(stored, []byte(second)) || !bytes.Equal(stored, hashToken(second)) {
		t.Error("the database must hold the token's SHA-256, not the token")
	}
}

func TestSignOutRevokesSession(t *testing.T) {
	h := newHarness(t)
	u := h.createUser(store.RoleStudent)
	c := h.signIn(u)
	tok := h.cookie(c, sessionCookie)
	resp := h.postForm(c, "/signout", nil)
	readBody(resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	if ck := findCookie(resp, sessionCookie); ck == nil || ck.MaxAge >= 0 {
		t.Errorf("sign-out did not clear the cookie: %v", ck)
	}
	if got := h.status(h.clientWithSession(tok), "/account"); got != http.StatusSeeOther {
		t.Errorf("revoked session: GET /account = %d, want 303", got)
	}
	if n := h.sessionCount(u); n != 0 {
		t.Errorf("%d sessions left, want 0", n)
	}
}

func TestPasswordChangeRevokesOtherSessions(t *testing.T) {
	h := newHarness(t)
	u := h.createUser(store.RoleStudent)
	here, elsewhere := h.signIn(u), h.signIn(u)
	newPW := "a brand new password"
	resp := h.postForm(here, "/account/password", url.Values{"current_password": {testPassword}, "new_password": {newPW}, "confirm_password": {newPW}})
	if text := readBody(resp); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("password change: %d %.300s", resp.StatusCode, text)
	}
	if got := h.status(elsewhere, "/account"); got != http.StatusSeeOther {
		t.Errorf("other session after password change: %d, want 303 (revoked)", got)
	}
	if got := h.status(here, "/account"); got != http.StatusOK {
		t.Errorf("the session that changed the password: %d, want 200", got)
	}
	c := h.client()
	resp = h.postForm(c, "/signin", url.Values{"email": {u.Email}, "password": {testPassword}})
	if readBody(resp); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("old password: %d, want 401", resp.StatusCode)
	}
	resp = h.postForm(c, "/signin", url.Values{"email": {u.Email}, "password": {newPW}})
	if readBody(resp); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("new password: %d, want 303", resp.StatusCode)
	}
	// A wrong current password changes nothing.
	resp = h.postForm(c, "/account/password", url.Values{"current_password": {"not my password"}, "new_password": {"another new password"}, "confirm_password": {"another new password"}})
	if text := readBody(resp); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(text, "not your current password") {
		t.Errorf("wrong current password: %d", resp.StatusCode)
	}
}

func TestSessionExpiry(t *testing.T) {
	h := newHarness(t)
	u := h.createUser(store.RoleStudent)
	c := h.signIn(u)
	ctx := context.Background()
	// Activity slides the expiry, at most every few minutes.
	if _, err := h.DB.Pool.Exec(ctx, `UPDATE sessions SET last_seen = now() - interval '10 minutes', expires_at = now() + interval '1 hour' WHERE user_id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if got := h.status(c, "/account"); got != http.StatusOK {
		t.Fatalf("GET /account = %d", got)
	}
	var left time.Duration
	if err := h.DB.Pool.QueryRow(ctx, `SELECT expires_at - now() FROM sessions WHERE user_id = $1`, u.ID).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left < 13*24*time.Hour {
		t.Errorf("expiry after activity is %v away; want about 14 days", left)
	}
	if _, err := h.DB.Pool.Exec(ctx, `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if got := h.status(c, "/account"); got != http.StatusSeeOther {
		t.Errorf("expired session: GET /account = %d, want 303", got)
	}
}

func TestLoginThrottle(t *testing.T) {
	h := newHarness(t)
	u := h.createUser(store.RoleStudent)
	c := h.client()
	lim := h.Srv.auth.throttle.PerAccount
	for i := 0; i < lim; i++ {
		resp := h.postForm(c, "/signin", url.Values{"email": {u.Email}, "password": {"wrong password " + string(rune('a'+i))}})
		if text := readBody(resp); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(text, "Wrong email or password") {
			t.Fatalf("attempt %d: %d", i+1, resp.StatusCode)
		}
	}
	// The N+1th attempt is refused even with the right password.
	resp := h.postForm(c, "/signin", url.Values{"email": {strings.ToUpper(u.Email)}, "password": {testPassword}})
	text := readBody(resp)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(text, "Too many attempts; try again in ") || !strings.Contains(text, " seconds") {
		t.Fatalf("attempt %d with the right password: %d; want 429 with a wait", lim+1, resp.StatusCode)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After header")
	}
	if h.cookie(c, sessionCookie) != "" {
		t.Error("a throttled attempt got a session")
	}
	// When the window has passed, the right password works again.
	if _, err := h.DB.Pool.Exec(context.Background(), `UPDATE login_throttle SET window_start = now() - interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
	resp = h.postForm(c, "/signin", url.Values{"email": {u.Email}, "password": {testPassword}})
	if readBody(resp); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after the window: %d, want 303", resp.StatusCode)
	}

	// Per address: many accounts from one address.
	h.Srv.auth.throttle.PerIP = 3
	for i := 0; i < 3; i++ {
		resp := h.postForm(c, "/signin", url.Values{"email": {h.createUser(store.RoleStudent).Email}, "password": {"wrong password!"}})
		if readBody(resp); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("address attempt %d: %d", i+1, resp.StatusCode)
		}
	}
	resp = h.postForm(c, "/signin", url.Values{"email": {u.Email}, "password": {testPassword}})
	if readBody(resp); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("4th attempt from one address with 3 allowed: %d, want 429", resp.StatusCode)
	}
}

// csrfExempt lists the state-changing routes that need no CSRF token,
// each with the reason (see skipCSRF).
var csrfExempt = map[string]string{
	"POST /api/v1/freetier":           "pure computation for anyone: reads no cookie, changes nothing",
	"POST /connect/docker-tls/:token": "the single-use link is the authority, not a cookie",
}

func TestCSRFRequiredOnEveryStateChange(t *testing.T) {
	h := newHarness(t)
	for _, r := range h.Srv.echo.Routes() {
		if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == "echo_route_not_found" {
			continue
		}
		if _, ok := csrfExempt[r.Method+" "+r.Path]; ok {
			continue
		}
		w := h.world()
		path, err := authzPath(r.Method+" "+r.Path, w)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			token string // "" sends none
		}{{"no token", ""}, {"wrong token", "not-the-token"}} {
			c := h.sessionClient(w.Admin)
			h.csrf(c) // the cookie is there; the form or header lacks it
			hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			reqBody := ""
			if strings.HasPrefix(path, "/api/") {
				hdr["Content-Type"] = "application/json"
				reqBody = "{}"
				if tc.token != "" {
					hdr["X-CSRF-Token"] = tc.token
				}
			} else if tc.token != "" {
				reqBody = url.Values{"_csrf": {tc.token}}.Encode()
			}
			resp := h.do(c, r.Method, path, reqBody, hdr)
			readBody(resp)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s with %s: %d, want 403", r.Method, path, tc.name, resp.StatusCode)
			}
		}
	}
}

func TestOneTimeLinksAreRedactedInLogs(t *testing.T) {
	for in, want := range map[string]string{
		"/setup/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ": "/setup/REDACTED",
		"/setup/":          "/setup/",
		"/signin?next=/x":  "/signin?next=/x",
		"/join/K7QX2M9PWD": "/join/K7QX2M9PWD",
		"/reset/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ":              "/reset/REDACTED",
		"/connect/docker-tls/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ": "/connect/docker-tls/REDACTED",
		"/connect/docker-tls.sh":                                          "/connect/docker-tls.sh",
	} {
		if got := redactURI(in); got != want {
			t.Errorf("redactURI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBearerRequestsNeverUseCookies(t *testing.T) {
	h := newHarness(t)
	w := h.world()
	c := h.sessionClient(w.Admin)
	// Outside /api/ (the agent's endpoint, say) a bearer token is not ours
	// to judge: the request is anonymous even with a session cookie, and
	// skips CSRF because no cookie speaks for it.
	resp := h.do(c, http.MethodGet, "/account", "", map[string]string{"Authorization": "Bearer some-agent-token"})
	if readBody(resp); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /account with a bearer token and a session cookie: %d, want 303 (anonymous)", resp.StatusCode)
	}
	// Under /api/ an unknown token is refused, whatever the cookies say.
	resp = h.do(c, http.MethodGet, "/api/v1/me", "", map[string]string{"Authorization": "Bearer wst_unknown"})
	if readBody(resp); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unknown API token with a session cookie: %d, want 401", resp.StatusCode)
	}
}
