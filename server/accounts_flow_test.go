package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coursekit/workshop/store"
)

// TestNewcomerWalkthrough follows the "done when": the first
// admin from the setup link, a cohort, a student through the invite link,
// the right pages for each.
func TestNewcomerWalkthrough(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	var out bytes.Buffer
	if err := h.Srv.AnnounceSetup(ctx, &out, "http://localhost:8080"); err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`http://localhost:8080/setup/[A-Za-z0-9_-]{43}`).FindString(out.String())
	if link == "" {
		t.Fatalf("no setup link in %q", out.String())
	}
	setupPath := strings.TrimPrefix(link, "http://localhost:8080")
	admin := h.client()
	if got := h.status(admin, setupPath); got != http.StatusOK {
		t.Fatalf("GET setup link: %d", got)
	}
	resp := h.postForm(admin, setupPath, url.Values{"name": {"Ada Admin"}, "email": {"  Ada@Example.org "}, "password": {"short"}})
	if text := readBody(resp); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(text, "Too short") || !strings.Contains(text, `value="ada@example.org"`) {
		t.Fatalf("short password: %d", resp.StatusCode)
	}
	resp = h.postForm(admin, setupPath, url.Values{"name": {"Ada Admin"}, "email": {"  Ada@Example.org "}, "password": {"admin password 1"}})
	if readBody(resp); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/users" {
		t.Fatalf("create admin: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := h.status(h.client(), setupPath); got != http.StatusGone {
		t.Errorf("setup link after use: %d, want 410", got)
	}
	out.Reset()
	if err := h.Srv.AnnounceSetup(ctx, &out, "http://localhost:8080"); err != nil || out.Len() != 0 {
		t.Errorf("a second start with an admin printed %q (%v)", out.String(), err)
	}
	if text := readBody(h.get(admin, "/admin/users")); !strings.Contains(text, "ada@example.org") {
		t.Error("the admin page does not list the admin")
	}

	// The admin makes a cohort.
	resp = h.postForm(admin, "/cohorts", url.Values{"name": {"January"}, "default_variant": {"guided"}, "pass_mark": {"70"}})
	readBody(resp)
	cohortPath := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(cohortPath, "/cohorts/") {
		t.Fatalf("create cohort: %d %s", resp.StatusCode, cohortPath)
	}
	page := readBody(h.get(admin, cohortPath))
	joinPath := regexp.MustCompile(`/join/[A-Z0-9]{10}`).FindString(page)
	if joinPath == "" {
		t.Fatal("no invite link on the cohort page")
	}

	// A student signs up through the invite link in another browser.
	student := h.client()
	if text := readBody(h.get(student, joinPath)); !strings.Contains(text, "Join January") {
		t.Fatal("the invite page does not name the cohort")
	}
	resp = h.postForm(student, joinPath, url.Values{"name": {"Sam Student"}, "email": {"sam@example.org"}, "password": {`' OR '1'='1' -- <b>`}})
	if readBody(resp); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign up: %d", resp.StatusCode)
	}
	sam, err := h.DB.UserByEmail(ctx, "sam@example.org")
	if err != nil || sam.Role != store.RoleStudent {
		t.Fatalf("student: %+v %v", sam, err)
	}
	got, err := h.DB.StudentCohort(ctx, sam.ID)
	if err != nil || got.Name != "January" {
		t.Errorf("student's cohort = %+v, %v", got, err)
	}
	for path, want := range map[string]int{"/account": 200, "/cohorts": 403, "/admin/users": 403, cohortPath: 403} {
		if got := h.status(student, path); got != want {
			t.Errorf("student GET %s = %d, want %d", path, got, want)
		}
	}
	// The odd password works: it is only ever hashed.
	resp = h.postForm(h.client(), "/signin", url.Values{"email": {"SAM@example.org"}, "password": {`' OR '1'='1' -- <b>`}})
	if readBody(resp); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("sign in with the odd password: %d", resp.StatusCode)
	}
	if text := readBody(h.get(admin, cohortPath)); !strings.Contains(text, "sam@example.org") {
		t.Error("the cohort page does not list the student")
	}

	// Signing up again with the same address but another password says
	// so without signing anyone in; with the right password it joins.
	resp = h.postForm(h.client(), joinPath, url.Values{"name": {"Mallory"}, "email": {"sam@example.org"}, "password": {"mallory password"}})
	if text := readBody(resp); resp.StatusCode != http.StatusConflict || !strings.Contains(text, "cannot be used for a new account") {
		t.Errorf("duplicate sign-up: %d", resp.StatusCode)
	}
	if n := h.sessionCount(sam); n != 2 {
		t.Errorf("%d sessions for the student, want 2 (sign-up and sign-in)", n)
	}

	// Closing the invitation and rotating the code.
	id := strings.TrimPrefix(cohortPath, "/cohorts/")
	resp = h.postForm(admin, cohortPath+"/settings", url.Values{"name": {"January"}, "default_variant": {"guided"}, "pass_mark": {"70"}})
	if readBody(resp); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("close: %d", resp.StatusCode)
	}
	if got := h.status(h.client(), joinPath); got != http.StatusGone {
		t.Errorf("closed invite: %d, want 410", got)
	}
	resp = h.postForm(admin, "/cohorts/"+id+"/join-code", nil)
	readBody(resp)
	if got := h.status(h.client(), joinPath); got != http.StatusNotFound {
		t.Errorf("old invite after rotation: %d, want 404", got)
	}

	// The student is removed from the cohort.
	resp = h.postForm(admin, fmt.Sprintf("%s/members/%d/remove", cohortPath, sam.ID), nil)
	if readBody(resp); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("remove: %d", resp.StatusCode)
	}
	if _, err := h.DB.StudentCohort(ctx, sam.ID); err == nil {
		t.Error("the student is still in the cohort")
	}
}

func TestRolesAndCoInstructors(t *testing.T) {
	h := newHarness(t)
	w := h.world()
	ia := h.sessionClient(w.InstructorA)
	pathA := fmt.Sprintf("/cohorts/%d", w.CohortA.ID)
	if got := h.status(h.sessionClient(w.InstructorB), pathA); got != http.StatusForbidden {
		t.Fatalf("instructor B on A: %d", got)
	}
	resp := h.postForm(ia, pathA+"/instructors", url.Values{"email": {w.StudentB.Email}})
	if text := readBody(resp); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(text, "No instructor account") {
		t.Errorf("student as co-instructor: %d", resp.StatusCode)
	}
	resp = h.postForm(ia, pathA+"/instructors", url.Values{"email": {w.InstructorB.Email}})
	if readBody(resp); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add co-instructor: %d", resp.StatusCode)
	}
	if got := h.status(h.sessionClient(w.InstructorB), pathA); got != http.StatusOK {
		t.Errorf("co-instructor B on A: %d", got)
	}
	// An instructor who becomes a student loses the cohort.
	admin := h.sessionClient(w.Admin)
	resp = h.postForm(admin, fmt.Sprintf("/admin/users/%d/role", w.InstructorB.ID), url.Values{"role": {"student"}})
	if readBody(resp); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("demote: %d", resp.StatusCode)
	}
	if got := h.status(h.sessionClient(w.InstructorB), pathA); got != http.StatusForbidden {
		t.Errorf("demoted B on A: %d", got)
	}
	// The last admin cannot stop being one.
	resp = h.postForm(admin, fmt.Sprintf("/admin/users/%d/role", w.Admin.ID), url.Values{"role": {"instructor"}})
	if text := readBody(resp); resp.StatusCode != http.StatusConflict || !strings.Contains(text, "at least one admin") {
		t.Errorf("demote the last admin: %d", resp.StatusCode)
	}
}
