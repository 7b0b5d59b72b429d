package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/store"
)

// JSON shapes of the API (documented in docs/api.md).
type (
	apiUser struct {
		ID               int64     `json:"id"`
		Email            string    `json:"email"`
		Name             string    `json:"name"`
		Role             string    `json:"role"`
		PreferredVariant string    `json:"preferred_variant"`
		CreatedAt        time.Time `json:"created_at"`
	}
	apiCohort struct {
		ID                 int64     `json:"id"`
		Name               string    `json:"name"`
		StartsOn           string    `json:"starts_on,omitempty"`
		EndsOn             string    `json:"ends_on,omitempty"`
		JoinCode           string    `json:"join_code"`
		JoinURL            string    `json:"join_url"`
		JoinOpen           bool      `json:"join_open"`
		DefaultVariant     string    `json:"default_variant"`
		AllowPrivateRanges bool      `json:"allow_private_ranges"`
		PassMark           float64   `json:"pass_mark"`
		CreatedAt          time.Time `json:"created_at"`
	}
	apiMember struct {
		UserID   int64     `json:"user_id"`
		Email    string    `json:"email"`
		Name     string    `json:"name"`
		Role     string    `json:"role"`
		JoinedAt time.Time `json:"joined_at"`
	}
	// apiCohortInput is a create or a partial update; absent fields keep
	// their value (or the default on create).
	apiCohortInput struct {
		Name               *string  `json:"name"`
		StartsOn           *string  `json:"starts_on"`
		EndsOn             *string  `json:"ends_on"`
		JoinOpen           *bool    `json:"join_open"`
		DefaultVariant     *string  `json:"default_variant"`
		AllowPrivateRanges *bool    `json:"allow_private_ranges"`
		PassMark           *float64 `json:"pass_mark"`
	}
)

func toAPIUser(u *store.User) apiUser {
	return apiUser{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, PreferredVariant: u.PreferredVariant, CreatedAt: u.CreatedAt}
}

func (s *Server) toAPICohort(c echo.Context, ch *store.Cohort) apiCohort {
	return apiCohort{ID: ch.ID, Name: ch.Name, StartsOn: fmtDate(ch.StartsOn), EndsOn: fmtDate(ch.EndsOn), JoinCode: ch.JoinCode,
		JoinURL: s.publicBase(c) + "/join/" + ch.JoinCode, JoinOpen: ch.JoinOpen, DefaultVariant: ch.DefaultVariant,
		AllowPrivateRanges: ch.AllowPrivateRanges, PassMark: ch.PassMark, CreatedAt: ch.CreatedAt}
}

// decodeJSON reads a JSON object strictly: unknown fields are an error.
func decodeJSON(c echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return Errorf(http.StatusBadRequest, "The body must be a JSON object with the documented fields: %s", decodeProblem(err))
	}
	return nil
}

func decodeProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "invalid JSON"
	case errors.As(err, &te) && te.Field == "":
		return fmt.Sprintf("got a JSON %s instead", te.Value)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q has the wrong type (a JSON %s)", te.Field, te.Value)
	case errors.Is(err, io.EOF):
		return "the body is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends too early"
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "unknown field " + f + " (docs/api.md lists the fields)"
	}
	if len(err.Error()) < 120 {
		return err.Error()
	}
	return "invalid JSON"
}

// values turns the input into form values over base, so the API and the
// pages share one set of rules.
func (in apiCohortInput) values(base url.Values) url.Values {
	v := url.Values{}
	for k, vs := range base {
		v[k] = vs
	}
	set := func(k string, p *string) {
		if p != nil {
			v.Set(k, *p)
		}
	}
	setBool := func(k string, p *bool) {
		if p != nil {
			v.Set(k, map[bool]string{true: "on", false: ""}[*p])
		}
	}
	set("name", in.Name)
	set("starts_on", in.StartsOn)
	set("ends_on", in.EndsOn)
	set("default_variant", in.DefaultVariant)
	setBool("join_open", in.JoinOpen)
	setBool("allow_private_ranges", in.AllowPrivateRanges)
	if in.PassMark != nil {
		pct := math.Round(*in.PassMark * 100)
		if math.Abs(*in.PassMark*100-pct) < 1e-6 {
			v.Set("pass_mark", strconv.Itoa(int(pct)))
		} else {
			v.Set("pass_mark", fmt.Sprint(*in.PassMark))
		}
	}
	return v
}

func (s *Server) apiMe(c echo.Context) error {
	return c.JSON(http.StatusOK, toAPIUser(s.currentUser(c)))
}

func (s *Server) apiCreateToken(c echo.Context) error {
	if !viaSession(c) {
		return Errorf(http.StatusForbidden, "Tokens are created from a signed-in browser session, not with another token.")
	}
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	f := valuesForm(url.Values{"name": {in.Name}})
	name := f.text("name", 100, true, titlePunct, "A token name")
	if !f.ok() {
		return f.fieldErrors()
	}
	tok, t, err := s.newAPIToken(c, name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"id": t.ID, "name": t.Name, "token": tok, "created_at": t.CreatedAt})
}

func (s *Server) apiCohorts(c echo.Context) error {
	cohorts, err := s.managedCohorts(c)
	if err != nil {
		return err
	}
	out := make([]apiCohort, 0, len(cohorts))
	for i := range cohorts {
		out = append(out, s.toAPICohort(c, &cohorts[i]))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiCreateCohort(c echo.Context) error {
	var in apiCohortInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	f := valuesForm(in.values(url.Values{"default_variant": {"guided"}, "pass_mark": {"70"}}))
	st := readCohortSettings(f, in.JoinOpen != nil)
	if !f.ok() {
		return f.fieldErrors()
	}
	cohort, err := s.createCohortWithCode(c, st)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, s.toAPICohort(c, cohort))
}

func (s *Server) apiCohort(c echo.Context) error {
	cohort, err := s.cohortParam(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.toAPICohort(c, cohort))
}

func (s *Server) apiUpdateCohort(c echo.Context) error {
	cohort, err := s.cohortParam(c)
	if err != nil {
		return err
	}
	var in apiCohortInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	f := valuesForm(in.values(url.Values(formValues(settingsForm(cohort).Values))))
	st := readCohortSettings(f, true)
	if !f.ok() {
		return f.fieldErrors()
	}
	updated, err := s.db.UpdateCohort(c.Request().Context(), cohort.ID, st)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.toAPICohort(c, updated))
}

func formValues(m map[string]string) url.Values {
	v := url.Values{}
	for k, x := range m {
		v.Set(k, x)
	}
	return v
}

func (s *Server) apiRotateJoinCode(c echo.Context) error {
	cohort, err := s.cohortParam(c)
	if err != nil {
		return err
	}
	updated, err := s.rotateJoinCode(c, cohort.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.toAPICohort(c, updated))
}

func (s *Server) apiMembers(c echo.Context) error {
	cohort, err := s.cohortParam(c)
	if err != nil {
		return err
	}
	members, err := s.db.CohortMembers(c.Request().Context(), cohort.ID)
	if err != nil {
		return err
	}
	out := make([]apiMember, 0, len(members))
	for _, m := range members {
		out = append(out, apiMember{UserID: m.ID, Email: m.Email, Name: m.Name, Role: m.CohortRole, JoinedAt: m.JoinedAt})
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiRemoveMember(c echo.Context) error {
	cohort, err := s.cohortParam(c)
	if err != nil {
		return err
	}
	uid, err := memberParam(c)
	if err != nil {
		return err
	}
	if err := s.removeMember(c, cohort.ID, uid); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiAddInstructor(c echo.Context) error {
	cohort, err := s.cohortParam(c)
	if err != nil {
		return err
	}
	var in struct {
		Email string `json:"email"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	f := valuesForm(url.Values{"email": {in.Email}})
	email := f.email("email")
	if f.ok() {
		msg, err := s.addInstructor(c, cohort.ID, email)
		if err != nil {
			return err
		}
		if msg == "" {
			return c.NoContent(http.StatusNoContent)
		}
		f.fail("email", msg)
	}
	return f.fieldErrors()
}

func (s *Server) apiUsers(c echo.Context) error {
	users, err := s.db.ListUsers(c.Request().Context(), maxListedUsers)
	if err != nil {
		return err
	}
	out := make([]apiUser, 0, len(users))
	for i := range users {
		out = append(out, toAPIUser(&users[i]))
	}
	return c.JSON(http.StatusOK, out)
}

// apiUpdateUser changes an account's role: {"role": "student|instructor|admin"}.
func (s *Server) apiUpdateUser(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return Errorf(http.StatusNotFound, "There is no such account.")
	}
	var in struct {
		Role string `json:"role"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	f := valuesForm(url.Values{"role": {in.Role}})
	role := f.choice("role", store.RoleStudent, store.RoleInstructor, store.RoleAdmin)
	if !f.ok() {
		return f.fieldErrors()
	}
	u, err := s.setRole(c, id, role)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAPIUser(u))
}

func (s *Server) apiInviteInstructor(c echo.Context) error {
	link, err := s.newInstructorInvite(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"url": link, "role": store.RoleInstructor, "expires_at": time.Now().Add(inviteLinkTTL).UTC()})
}
