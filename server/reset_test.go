package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coursekit/workshop/store"
)

var resetLinkRe = regexp.MustCompile(`/reset/[A-Za-z0-9_-]{43}`)

// TestPasswordResetByInstructor: an instructor makes a link for a student
// of their cohort; the student sets a new password with it once, is signed
// in, and every older session of theirs is signed out.
func TestPasswordResetByInstructor(t *testing.T) {
	h := newHarness(t)
	w := h.world()
	teacher := h.sessionClient(w.InstructorA)
	before := h.sessionClient(w.StudentA) // the student's laptop, signed in before

	resp := h.postForm(teacher, fmt.Sprintf("/cohorts/%d/members/%d/reset-link", w.CohortA.ID, w.StudentA.ID), nil)
	page := readBody(resp)
	link := resetLinkRe.FindString(page)
	if resp.StatusCode != http.StatusOK || link == "" || !strings.Contains(page, "Password reset link for "+w.StudentA.Email) {
		t.Fatalf("reset link: %d, link %q\n%.2000s", resp.StatusCode, link, page)
	}

	// The link names the account; a mismatch is refused with a message and
	// changes nothing.
	anon := h.client()
	if text := readBody(h.get(anon, link)); !strings.Contains(text, w.StudentA.Email) {
		t.Errorf("the reset page does not name the account:\n%.1500s", text)
	}
	resp = h.postForm(anon, link, url.Values{"password": {"a brand new password"}, "confirm_password": {"another password!"}})
	if text := readBody(resp); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(text, "Does not match") {
		t.Errorf("mismatched passwords: %d", resp.StatusCode)
	}
	resp = h.postForm(anon, link, url.Values{"password": {"short"}, "confirm_password": {"short"}})
	if text := readBody(resp); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(text, "Too short") {
		t.Errorf("a short password: %d", resp.StatusCode)
	}

	resp = h.postForm(anon, link, url.Values{"password": {"a brand new password"}, "confirm_password": {"a brand new password"}})
	readBody(resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/progress" {
		t.Fatalf("reset: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := statusOf(h.get(anon, "/account")); got != http.StatusOK {
		t.Errorf("not signed in after the reset: %d", got)
	}
	if got := statusOf(h.get(before, "/account")); got != http.StatusSeeOther {
		t.Errorf("a session from before the reset still works: %d", got)
	}

	// The new password signs in, the old one does not, the link is spent.
	c := h.client()
	resp = h.postForm(c, "/signin", url.Values{"email": {w.StudentA.Email}, "password": {testPassword}})
	if readBody(resp); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the old password: %d, want 401", resp.StatusCode)
	}
	resp = h.postForm(c, "/signin", url.Values{"email": {w.StudentA.Email}, "password": {"a brand new password"}})
	if readBody(resp); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the new password: %d, want 303", resp.StatusCode)
	}
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		var resp *http.Response
		if method == http.MethodGet {
			resp = h.get(h.client(), link)
		} else {
			resp = h.postForm(h.client(), link, url.Values{"password": {"yet another password"}, "confirm_password": {"yet another password"}})
		}
		if text := readBody(resp); resp.StatusCode != http.StatusGone || !strings.Contains(text, "has been used") {
			t.Errorf("%s of a spent link: %d\n%.500s", method, resp.StatusCode, text)
		}
	}
	if got := statusOf(h.get(h.client(), "/reset/not-a-token")); got != http.StatusNotFound {
		t.Errorf("a mangled link: %d, want 404", got)
	}
}

// TestPasswordResetWhoMayMakeLinks: an instructor only for students of
// their own cohort; an admin for anyone; a newer link ends the older.
func TestPasswordResetWhoMayMakeLinks(t *testing.T) {
	h := newHarness(t)
	w := h.world()
	ctx := t.Context()
	teacher := h.sessionClient(w.InstructorA)
	path := func(u *store.User) string {
		return fmt.Sprintf("/api/v1/cohorts/%d/members/%d/reset-link", w.CohortA.ID, u.ID)
	}

	// A co-instructor of the cohort and a student of another cohort: no.
	if err := h.DB.AddMember(ctx, w.CohortA.ID, w.InstructorB.ID, store.RoleInstructor); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*store.User{w.InstructorB, w.StudentB} {
		resp := h.api(teacher, http.MethodPost, path(u), "{}", "")
		if text := readBody(resp); resp.StatusCode != http.StatusNotFound || !strings.Contains(text, "not a student of the cohort") {
			t.Errorf("link for %s: %d %s", u.Email, resp.StatusCode, text)
		}
	}
	// An account with a staff role that joined as a student: admins only.
	if err := h.DB.AddMember(ctx, w.CohortA.ID, w.Admin.ID, store.RoleStudent); err != nil {
		t.Fatal(err)
	}
	resp := h.api(teacher, http.MethodPost, path(w.Admin), "{}", "")
	if text := readBody(resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(text, "only an admin") {
		t.Errorf("link for an admin account by an instructor: %d %s", resp.StatusCode, text)
	}

	// The API's link, then a newer one from the admin: the first is ended.
	resp = h.api(teacher, http.MethodPost, path(w.StudentA), "{}", "")
	var first struct {
		URL    string `json:"url"`
		UserID int64  `json:"user_id"`
		Email  string `json:"email"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&first); err != nil || resp.StatusCode != http.StatusCreated ||
		first.UserID != w.StudentA.ID || first.Email != w.StudentA.Email || !resetLinkRe.MatchString(first.URL) {
		t.Fatalf("API link: %d %+v %v", resp.StatusCode, first, err)
	}
	resp.Body.Close()
	admin := h.sessionClient(w.Admin)
	resp = h.postForm(admin, fmt.Sprintf("/admin/users/%d/reset-link", w.StudentA.ID), nil)
	if text := readBody(resp); resp.StatusCode != http.StatusOK || !resetLinkRe.MatchString(text) {
		t.Fatalf("admin link: %d", resp.StatusCode)
	}
	if got := statusOf(h.get(h.client(), resetLinkRe.FindString(first.URL))); got != http.StatusGone {
		t.Errorf("the older link after a newer one: %d, want 410", got)
	}
	resp = h.postForm(admin, "/admin/users/999999/reset-link", nil)
	if readBody(resp); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a link for no account: %d, want 404", resp.StatusCode)
	}
}

// statusOf reads and closes the response and returns its status.
func statusOf(resp *http.Response) int {
	readBody(resp)
	return resp.StatusCode
}
