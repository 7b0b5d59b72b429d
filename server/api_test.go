package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coursekit/workshop/store"
)

func decodeInto(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	text := readBody(resp)
	if err := json.Unmarshal([]byte(text), v); err != nil {
		t.Fatalf("decode %q: %v", text, err)
	}
}

func TestAPITokensAndCohortScripting(t *testing.T) {
	h := newHarness(t)
	w := h.world()
	browser := h.sessionClient(w.InstructorA)

	// A token is made from a browser session (with the CSRF header) and
	// shown once.
	resp := h.api(browser, http.MethodPost, "/api/v1/tokens", `{"name":"set-up script"}`, "")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create token: %d %s", resp.StatusCode, readBody(resp))
	}
	var created struct {
		ID    int64  `json:"id"`
		Token string `json:"token"`
	}
	decodeInto(t, resp, &created)
	if !strings.HasPrefix(created.Token, "wst_") {
		t.Fatalf("token %q", created.Token)
	}
	var stored []byte
	if err := h.DB.Pool.QueryRow(context.Background(), `SELECT token_hash FROM api_tokens WHERE id = $1`, created.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stored, hashToken(created.Token)) {
		t.Error("the database must hold only the token's hash")
	}

	// A script uses it with no cookies and no CSRF token.
	script := &http.Client{}
	resp = h.api(script, http.MethodGet, "/api/v1/me", "", created.Token)
	var me apiUser
	decodeInto(t, resp, &me)
	if me.Email != w.InstructorA.Email || me.Role != store.RoleInstructor {
		t.Errorf("me = %+v", me)
	}
	resp = h.api(script, http.MethodPost, "/api/v1/tokens", `{"name":"another"}`, created.Token)
	if readBody(resp); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a token making a token: %d, want 403", resp.StatusCode)
	}
	resp = h.api(script, http.MethodPost, "/api/v1/cohorts", `{"name":"Scripted cohort","starts_on":"2027-01-10","pass_mark":0.8,"default_variant":"concepts"}`, created.Token)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create cohort: %d %s", resp.StatusCode, readBody(resp))
	}
	var cohort apiCohort
	decodeInto(t, resp, &cohort)
	if cohort.Name != "Scripted cohort" || cohort.PassMark != 0.8 || cohort.DefaultVariant != "concepts" || !cohort.JoinOpen ||
		cohort.AllowPrivateRanges || cohort.StartsOn != "2027-01-10" || !strings.HasSuffix(cohort.JoinURL, "/join/"+cohort.JoinCode) {
		t.Errorf("created cohort = %+v", cohort)
	}
	path := fmt.Sprintf("/api/v1/cohorts/%d", cohort.ID)
	resp = h.api(script, http.MethodPut, path, `{"join_open":false,"allow_private_ranges":true}`, created.Token)
	var updated apiCohort
	decodeInto(t, resp, &updated)
	if updated.JoinOpen || !updated.AllowPrivateRanges || updated.Name != "Scripted cohort" || updated.PassMark != 0.8 {
		t.Errorf("partial update = %+v", updated)
	}
	resp = h.api(script, http.MethodPut, path, `{"pass_mark":2,"name":"<b>x</b>"}`, created.Token)
	var problem errorResponse
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad update: %d", resp.StatusCode)
	}
	decodeInto(t, resp, &problem)
	if problem.Fields["pass_mark"] == "" || problem.Fields["name"] == "" {
		t.Errorf("bad update fields = %+v", problem.Fields)
	}
	resp = h.api(script, http.MethodPut, path, `{"nmae":"typo"}`, created.Token)
	if readBody(resp); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown field: %d, want 400", resp.StatusCode)
	}
	resp = h.api(script, http.MethodPost, path+"/join-code", "", created.Token)
	var rotated apiCohort
	decodeInto(t, resp, &rotated)
	if rotated.JoinCode == cohort.JoinCode {
		t.Error("join code not rotated")
	}
	resp = h.api(script, http.MethodPost, path+"/instructors", fmt.Sprintf(`{"email":%q}`, strings.ToUpper(w.InstructorB.Email)), created.Token)
	if readBody(resp); resp.StatusCode != http.StatusNoContent {
		t.Errorf("add co-instructor: %d", resp.StatusCode)
	}
	resp = h.api(script, http.MethodPost, path+"/instructors", fmt.Sprintf(`{"email":%q}`, w.StudentB.Email), created.Token)
	if readBody(resp); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a student as co-instructor: %d, want 422", resp.StatusCode)
	}
	h.addStudent(&store.Cohort{ID: cohort.ID}, w.StudentB)
	resp = h.api(script, http.MethodGet, path+"/members", "", created.Token)
	var members []apiMember
	decodeInto(t, resp, &members)
	if len(members) != 3 {
		t.Errorf("members = %+v", members)
	}
	resp = h.api(script, http.MethodDelete, fmt.Sprintf("%s/members/%d", path, w.StudentB.ID), "", created.Token)
	if readBody(resp); resp.StatusCode != http.StatusNoContent {
		t.Errorf("remove member: %d", resp.StatusCode)
	}
	// Instructor B, now co-instructor, sees the cohort; the list shows it.
	resp = h.api(h.sessionClient(w.InstructorB), http.MethodGet, "/api/v1/cohorts", "", "")
	var list []apiCohort
	decodeInto(t, resp, &list)
	if len(list) != 2 {
		t.Errorf("instructor B's cohorts = %d, want 2 (own and co-taught)", len(list))
	}

	// Revoking the token on the account page ends it.
	resp = h.postForm(browser, fmt.Sprintf("/account/tokens/%d/revoke", created.ID), nil)
	if readBody(resp); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	resp = h.api(script, http.MethodGet, "/api/v1/me", "", created.Token)
	if readBody(resp); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked token: %d, want 401", resp.StatusCode)
	}
}

func TestAPIAdmin(t *testing.T) {
	h := newHarness(t)
	w := h.world()
	admin := h.sessionClient(w.Admin)
	resp := h.api(admin, http.MethodPost, "/api/v1/instructor-invites", "{}", "")
	var invite struct {
		URL string `json:"url"`
	}
	decodeInto(t, resp, &invite)
	if !strings.Contains(invite.URL, "/setup/") {
		t.Fatalf("invite = %+v", invite)
	}
	resp = h.api(admin, http.MethodGet, "/api/v1/users", "", "")
	var users []apiUser
	decodeInto(t, resp, &users)
	if len(users) != 5 {
		t.Errorf("%d users, want 5", len(users))
	}
	// Role changes: a promotion, a role that does not exist, the last
	// admin, an unknown account.
	resp = h.api(admin, http.MethodPut, fmt.Sprintf("/api/v1/users/%d", w.StudentB.ID), `{"role":"instructor"}`, "")
	var changed apiUser
	decodeInto(t, resp, &changed)
	if changed.Role != store.RoleInstructor || changed.ID != w.StudentB.ID {
		t.Errorf("promoted: %+v", changed)
	}
	for body, want := range map[string]int{`{"role":"root"}`: 422, `{"role":"student"}`: 409, `{"role":`: 400} {
		resp := h.api(admin, http.MethodPut, fmt.Sprintf("/api/v1/users/%d", w.Admin.ID), body, "")
		if text := readBody(resp); resp.StatusCode != want || !strings.Contains(text, `"error"`) {
			t.Errorf("PUT %s on the last admin: %d %s, want %d with a message", body, resp.StatusCode, text, want)
		}
	}
	if got := statusOf(h.api(admin, http.MethodPut, "/api/v1/users/999999", `{"role":"student"}`, "")); got != http.StatusNotFound {
		t.Errorf("unknown account: %d, want 404", got)
	}
	// The invitation creates an instructor account, once.
	u, _ := url.Parse(invite.URL)
	c := h.client()
	resp = h.postForm(c, u.Path, url.Values{"name": {"Ines"}, "email": {"ines@example.org"}, "password": {"instructor password"}})
	if readBody(resp); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/cohorts" {
		t.Fatalf("use invitation: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := h.status(c, "/cohorts"); got != http.StatusOK {
		t.Errorf("new instructor: GET /cohorts = %d", got)
	}
	resp = h.postForm(h.client(), u.Path, url.Values{"name": {"Eve"}, "email": {"eve@example.org"}, "password": {"instructor password"}})
	if readBody(resp); resp.StatusCode != http.StatusGone {
		t.Errorf("second use of the invitation: %d, want 410", resp.StatusCode)
	}
}

// TestJSONBodyProblemsAreNamed: what a script sent wrong is said in words.
func TestJSONBodyProblemsAreNamed(t *testing.T) {
	h := newHarness(t)
	w := h.world()
	c := h.sessionClient(w.InstructorA)
	path := fmt.Sprintf("/api/v1/cohorts/%d", w.CohortA.ID)
	for body, want := range map[string]string{
		`[]`:             "got a JSON array instead",
		`"x"`:            "got a JSON string instead",
		`{"name": 1}`:    `field "name" has the wrong type (a JSON number)`,
		`{"name": "x"`:   "the JSON ends too early",
		`{"name": }`:     "invalid JSON",
		``:               "the body is empty",
		`{"nope": true}`: `unknown field "nope"`,
	} {
		resp := h.api(c, http.MethodPut, path, body, "")
		var out struct {
			Error string `json:"error"`
		}
		err := json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusBadRequest || !strings.Contains(out.Error, want) {
			t.Errorf("PUT %q: %d %q (%v), want 400 saying %q", body, resp.StatusCode, out.Error, err, want)
		}
	}
}
