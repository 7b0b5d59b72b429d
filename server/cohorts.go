package server

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/web"
)

// joinAlphabet leaves out letters and digits people confuse (I, O, 0, 1).
const joinAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// newJoinCode returns 10 characters (50 bits), enough that codes cannot
// be guessed within the sign-up throttle.
func newJoinCode() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = joinAlphabet[int(b[i])%len(joinAlphabet)]
	}
	return string(b)
}

// readCohortSettings reads the settings fields shared by the create and
// edit forms. joinOpenField is false on the create form (new cohorts open).
func readCohortSettings(f *form, joinOpenField bool) store.CohortSettings {
	st := store.CohortSettings{
		Name:               f.text("name", 120, true, titlePunct, "A cohort name"),
		StartsOn:           f.date("starts_on"),
		EndsOn:             f.date("ends_on"),
		DefaultVariant:     f.choice("default_variant", "guided", "concepts"),
		PassMark:           f.percent("pass_mark"),
		AllowPrivateRanges: f.checkbox("allow_private_ranges"),
		JoinOpen:           true,
	}
	if joinOpenField {
		st.JoinOpen = f.checkbox("join_open")
	}
	if st.StartsOn != nil && st.EndsOn != nil && st.EndsOn.Before(*st.StartsOn) {
		f.fail("ends_on", "Ends before it starts.")
	}
	return st
}

// settingsForm shows a cohort's settings in the edit form.
func settingsForm(c *store.Cohort) web.Form {
	v := map[string]string{
		"name": c.Name, "default_variant": c.DefaultVariant, "pass_mark": strconv.Itoa(int(c.PassMark*100 + 0.5)),
		"starts_on": fmtDate(c.StartsOn), "ends_on": fmtDate(c.EndsOn),
	}
	if c.AllowPrivateRanges {
		v["allow_private_ranges"] = "on"
	}
	if c.JoinOpen {
		v["join_open"] = "on"
	}
	return web.Form{Values: v}
}

func fmtDate(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format("2006-01-02")
}

// createCohortWithCode retries the rare join-code collision.
func (s *Server) createCohortWithCode(c echo.Context, st store.CohortSettings) (*store.Cohort, error) {
	for i := 0; ; i++ {
		cohort, err := s.db.CreateCohort(c.Request().Context(), st, newJoinCode(), s.currentUser(c).ID)
		if errors.Is(err, store.ErrConflict) && i < 3 {
			continue
		}
		return cohort, err
	}
}

func (s *Server) rotateJoinCode(c echo.Context, id int64) (*store.Cohort, error) {
	for i := 0; ; i++ {
		cohort, err := s.db.SetJoinCode(c.Request().Context(), id, newJoinCode())
		if errors.Is(err, store.ErrConflict) && i < 3 {
			continue
		}
		return cohort, err
	}
}

// managedCohorts lists what the signed-in staff member manages: admins
// every cohort, instructors theirs.
func (s *Server) managedCohorts(c echo.Context) ([]store.Cohort, error) {
	u := s.currentUser(c)
	if u.IsAdmin() {
		return s.db.ListCohorts(c.Request().Context())
	}
	return s.db.InstructorCohorts(c.Request().Context(), u.ID)
}

func (s *Server) cohortList(c echo.Context, form web.Form, status int) error {
	cohorts, err := s.managedCohorts(c)
	if err != nil {
		return err
	}
	p := web.CohortListPage{Page: s.page(c, "Cohorts"), Form: form}
	p.Nav = "cohorts"
	for _, ch := range cohorts {
		p.Cohorts = append(p.Cohorts, web.CohortRow{ID: ch.ID, Name: ch.Name, StartsOn: fmtDate(ch.StartsOn), EndsOn: fmtDate(ch.EndsOn), JoinOpen: ch.JoinOpen})
	}
	return s.renderStatus(c, status, "cohorts", p)
}

func (s *Server) cohorts(c echo.Context) error {
	return s.cohortList(c, web.Form{Values: map[string]string{"pass_mark": "70", "default_variant": "guided"}}, http.StatusOK)
}

func (s *Server) createCohort(c echo.Context) error {
	f, err := newForm(c)
	if err != nil {
		return err
	}
	st := readCohortSettings(f, false)
	if !f.ok() {
		return s.cohortList(c, f.web(), http.StatusUnprocessableEntity)
	}
	cohort, err := s.createCohortWithCode(c, st)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/cohorts/%d", cohort.ID))
}

// cohortDetail renders the cohort page with the given forms (nil: fresh)
// and any edits (a reset link to show once).
func (s *Server) cohortDetail(c echo.Context, cohort *store.Cohort, settings, instructor *web.Form, status int, edits ...func(*web.CohortPage)) error {
	members, err := s.db.CohortMembers(c.Request().Context(), cohort.ID)
	if err != nil {
		return err
	}
	p := web.CohortPage{Page: s.page(c, cohort.Name), ID: cohort.ID, Name: cohort.Name, JoinCode: cohort.JoinCode,
		InviteURL: s.publicBase(c) + "/join/" + cohort.JoinCode, JoinOpen: cohort.JoinOpen, Settings: settingsForm(cohort)}
	p.Nav = "cohorts"
	if settings != nil {
		p.Settings = *settings
	}
	if instructor != nil {
		p.InstructorForm = *instructor
	}
	for _, m := range members {
		row := web.MemberRow{UserID: m.ID, Name: m.Name, Email: m.Email, Role: m.CohortRole, JoinedAt: m.JoinedAt}
		if m.CohortRole == store.RoleInstructor {
			p.Instructors = append(p.Instructors, row)
		} else {
			p.Students = append(p.Students, row)
		}
	}
	for _, edit := range edits {
		edit(&p)
	}
	return s.renderStatus(c, status, "cohort", p)
}

func (s *Server) cohortPage(c echo.Context) error {
	cohort, err := s.cohortParam(c)
	if err != nil {
		return err
	}
	return s.cohortDetail(c, cohort, nil, nil, http.StatusOK)
}

func (s *Server) updateCohortSettings(c echo.Context) error {
	cohort, err := s.cohortParam(c)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	st := readCohortSettings(f, true)
	if !f.ok() {
		wf := f.web()
		return s.cohortDetail(c, cohort, &wf, nil, http.StatusUnprocessableEntity)
	}
	if _, err := s.db.UpdateCohort(c.Request().Context(), cohort.ID, st); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/cohorts/%d", cohort.ID))
}

func (s *Server) newJoinCodeForm(c echo.Context) error {
	cohort, err := s.cohortParam(c)
	if err != nil {
		return err
	}
	if _, err := s.rotateJoinCode(c, cohort.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/cohorts/%d", cohort.ID))
}

// addInstructor makes an existing instructor (or admin) account a
// co-instructor; it returns a message for the email field when it cannot.
func (s *Server) addInstructor(c echo.Context, cohortID int64, email string) (string, error) {
	u, err := s.db.UserByEmail(c.Request().Context(), email)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !u.IsStaff()) {
		return "No instructor account has this email. An admin can invite them first.", nil
	}
	if err != nil {
		return "", err
	}
	return "", s.db.AddMember(c.Request().Context(), cohortID, u.ID, store.RoleInstructor)
}

func (s *Server) addInstructorForm(c echo.Context) error {
	cohort, err := s.cohortParam(c)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	email := f.email("email")
	if f.ok() {
		msg, err := s.addInstructor(c, cohort.ID, email)
		if err != nil {
			return err
		}
		if msg == "" {
			return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/cohorts/%d", cohort.ID))
		}
		f.fail("email", msg)
	}
	wf := f.web()
	return s.cohortDetail(c, cohort, nil, &wf, http.StatusUnprocessableEntity)
}

// memberParam reads :user.
func memberParam(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("user"), 10, 64)
	if err != nil || id <= 0 {
		return 0, Errorf(http.StatusNotFound, "There is no such member.")
	}
	return id, nil
}

func (s *Server) removeMember(c echo.Context, cohortID, userID int64) error {
	err := s.db.RemoveMember(c.Request().Context(), cohortID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return Errorf(http.StatusNotFound, "This person is not in the cohort.")
	}
	return err
}

func (s *Server) removeMemberForm(c echo.Context) error {
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
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/cohorts/%d", cohort.ID))
}
