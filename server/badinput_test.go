package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coursekit/workshop/store"
)

// badValues are tried in every field of every form.
var badValues = []struct{ name, value string }{
	{"empty", ""},
	{"over-long", strings.Repeat("a", 10*1024+1)},
	{"non-UTF-8", "ab\xff\xfe\xfdcd"},
	{"SQL-looking", `x' OR '1'='1'; DROP TABLE users; --`},
	{"HTML-looking", `<script>alert(1)</script>`},
}

// snapshot is everything a refused form must leave unchanged (sessions
// and throttle windows may change: attempts are counted).
func (h *harness) snapshot() string {
	h.t.Helper()
	var s string
	err := h.DB.Pool.QueryRow(context.Background(), `SELECT
		(SELECT coalesce(string_agg(x::text, '|' ORDER BY x.id), '') FROM users x) ||
		(SELECT coalesce(string_agg(x::text, '|' ORDER BY x.id), '') FROM cohorts x) ||
		(SELECT coalesce(string_agg(x::text, '|' ORDER BY x.cohort_id, x.user_id), '') FROM cohort_members x) ||
		(SELECT coalesce(string_agg(x::text, '|' ORDER BY x.id), '') FROM api_tokens x) ||
		(SELECT coalesce(string_agg(x::text, '|' ORDER BY x.id), '') FROM setup_tokens x) ||
		(SELECT coalesce(string_agg(x::text, '|' ORDER BY x.id), '') FROM password_resets x)`).Scan(&s)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// badInputForm is one form: who posts it where, a valid submission, and
// which fields may legitimately be empty or hold any text.
type badInputForm struct {
	name     string
	who      func(w *world) *store.User
	path     func(w *world) string
	valid    func(w *world) url.Values
	optional []string // empty is a valid value
	anyText  []string // new passwords: any characters are allowed
}

var badInputForms = []badInputForm{
	{name: "sign in", who: anonymous, path: fixed("/signin"),
		valid: func(w *world) url.Values { return url.Values{"email": {w.StudentA.Email}, "password": {testPassword}} }},
	{name: "sign up", who: anonymous, path: func(w *world) string { return "/join/" + w.CohortA.JoinCode },
		valid: func(w *world) url.Values {
			return url.Values{"name": {"New Person"}, "email": {"new.person@example.org"}, "password": {"a good long password"}}
		}, anyText: []string{"password"}},
	{name: "setup", who: anonymous, path: func(w *world) string { return "/setup/" + w.SetupToken },
		valid: func(w *world) url.Values {
			return url.Values{"name": {"New Instructor"}, "email": {"new.instructor@example.org"}, "password": {"a good long password"}}
		}, anyText: []string{"password"}},
	{name: "password reset", who: anonymous, path: func(w *world) string { return "/reset/" + w.ResetToken },
		valid: func(w *world) url.Values {
			return url.Values{"password": {"a good long password"}, "confirm_password": {"a good long password"}}
		}, anyText: []string{"password", "confirm_password"}},
	{name: "profile", who: func(w *world) *store.User { return w.StudentA }, path: fixed("/account"),
		valid: func(w *world) url.Values { return url.Values{"name": {"Renamed"}, "preferred_variant": {"concepts"}} },
		// An empty choice means "the cohort's choice".
		optional: []string{"preferred_variant"}},
	{name: "password", who: func(w *world) *store.User { return w.StudentA }, path: fixed("/account/password"),
		valid: func(w *world) url.Values {
			return url.Values{"current_password": {testPassword}, "new_password": {"a new long password"}, "confirm_password": {"a new long password"}}
		}},
	{name: "API token", who: func(w *world) *store.User { return w.StudentA }, path: fixed("/account/tokens"),
		valid: func(w *world) url.Values { return url.Values{"token_name": {"set-up script"}} }},
	{name: "new cohort", who: func(w *world) *store.User { return w.InstructorA }, path: fixed("/cohorts"),
		valid: func(w *world) url.Values {
			return url.Values{"name": {"Spring cohort"}, "starts_on": {"2027-03-01"}, "ends_on": {"2027-04-01"},
				"default_variant": {"concepts"}, "pass_mark": {"80"}, "allow_private_ranges": {"on"}}
		}, optional: []string{"starts_on", "ends_on", "allow_private_ranges"}},
	{name: "cohort settings", who: func(w *world) *store.User { return w.InstructorA },
		path: func(w *world) string { return fmt.Sprintf("/cohorts/%d/settings", w.CohortA.ID) },
		valid: func(w *world) url.Values {
			return url.Values{"name": {"Renamed cohort"}, "starts_on": {"2027-03-01"}, "ends_on": {"2027-04-01"},
				"default_variant": {"concepts"}, "pass_mark": {"80"}, "allow_private_ranges": {"on"}, "join_open": {"on"}}
		}, optional: []string{"starts_on", "ends_on", "allow_private_ranges", "join_open"}},
	{name: "co-instructor", who: func(w *world) *store.User { return w.InstructorA },
		path:  func(w *world) string { return fmt.Sprintf("/cohorts/%d/instructors", w.CohortA.ID) },
		valid: func(w *world) url.Values { return url.Values{"email": {w.InstructorB.Email}} }},
	{name: "role", who: func(w *world) *store.User { return w.Admin },
		path:  func(w *world) string { return fmt.Sprintf("/admin/users/%d/role", w.StudentB.ID) },
		valid: func(w *world) url.Values { return url.Values{"role": {"instructor"}} }},
}

func anonymous(*world) *store.User { return nil }

func fixed(p string) func(*world) string { return func(*world) string { return p } }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestBadInputInEveryFormField(t *testing.T) {
	h := newHarness(t)
	h.Srv.auth.throttle.PerIP = 1 << 20 // this test makes many failed attempts on purpose
	for _, f := range badInputForms {
		w := h.world()
		for field := range f.valid(w) {
			for _, bad := range badValues {
				if bad.value == "" && contains(f.optional, field) {
					continue
				}
				if contains(f.anyText, field) && (bad.name == "SQL-looking" || bad.name == "HTML-looking") {
					continue
				}
				name := fmt.Sprintf("%s/%s/%s", f.name, field, bad.name)
				v := f.valid(w)
				v.Set(field, bad.value)
				before := h.snapshot()
				resp := h.postForm(h.sessionClient(f.who(w)), f.path(w), v)
				text := readBody(resp)
				if resp.StatusCode < 400 || resp.StatusCode > 499 {
					t.Errorf("%s: status %d, want 4xx", name, resp.StatusCode)
				}
				if !strings.Contains(text, `class="field-error"`) && !strings.Contains(text, `role="alert"`) {
					t.Errorf("%s: the page shows no message", name)
				}
				if strings.Contains(text, "<script>alert") {
					t.Errorf("%s: the value is shown unescaped", name)
				}
				if after := h.snapshot(); after != before {
					t.Errorf("%s: stored data changed", name)
				}
			}
		}
		// And the valid submission is accepted, so the table tests real forms.
		w2 := h.world()
		resp := h.postForm(h.sessionClient(f.who(w2)), f.path(w2), f.valid(w2))
		if text := readBody(resp); resp.StatusCode >= 400 {
			t.Errorf("%s: the valid submission got %d: %.300s", f.name, resp.StatusCode, text)
		}
	}
}

func TestJoinCodeFieldRefusesBadInput(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	for _, bad := range badValues[1:] {
		resp := h.get(c, "/join?code="+url.QueryEscape(bad.value))
		text := readBody(resp)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(text, `class="field-error"`) || strings.Contains(text, "<script>alert") {
			t.Errorf("join code %s: %d", bad.name, resp.StatusCode)
		}
	}
}

func TestShownTextIsEscaped(t *testing.T) {
	h := newHarness(t)
	w := h.world()
	c := h.sessionClient(w.InstructorA)
	resp := h.postForm(c, fmt.Sprintf("/cohorts/%d/settings", w.CohortA.ID), url.Values{"name": {"Docker & EC2 (O'Neil's)"}, "default_variant": {"guided"}, "pass_mark": {"70"}, "join_open": {"on"}})
	if readBody(resp); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	for _, p := range []string{"/cohorts", fmt.Sprintf("/cohorts/%d", w.CohortA.ID)} {
		text := readBody(h.get(c, p))
		if !strings.Contains(text, "Docker &amp; EC2 (O&#39;Neil&#39;s)") {
			t.Errorf("%s does not show the escaped name", p)
		}
	}
}
