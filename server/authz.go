package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/store"
)

// Authorization policy, in one place. Course pages are public; checks,
// quizzes and progress need a signed-in user (requireUser); cohort pages
// need an instructor of that cohort or an admin (cohortForStaff).

// canManageCohort is the cohort policy: admins manage every cohort,
// instructors the cohorts they teach, nobody else any.
func (s *Server) canManageCohort(c echo.Context, u *store.User, cohortID int64) (bool, error) {
	switch {
	case u == nil || !u.IsStaff():
		return false, nil
	case u.IsAdmin():
		return true, nil
	}
	return s.db.HasCohortRole(c.Request().Context(), cohortID, u.ID, store.RoleInstructor)
}

// cohortForStaff loads a cohort the signed-in user may manage: 404 when it
// does not exist, 403 unless the user teaches it or is an admin.
func (s *Server) cohortForStaff(c echo.Context, cohortID int64) (*store.Cohort, error) {
	u := s.currentUser(c)
	if u == nil {
		return nil, Errorf(http.StatusUnauthorized, "Sign in first.")
	}
	cohort, err := s.db.CohortByID(c.Request().Context(), cohortID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(http.StatusNotFound, "There is no such cohort.")
	}
	if err != nil {
		return nil, err
	}
	ok, err := s.canManageCohort(c, u, cohortID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, Errorf(http.StatusForbidden, "Only the cohort's instructors and administrators can see this.")
	}
	return cohort, nil
}

// cohortParam reads the :id path parameter and loads the cohort for staff.
func (s *Server) cohortParam(c echo.Context) (*store.Cohort, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, Errorf(http.StatusNotFound, "There is no such cohort.")
	}
	return s.cohortForStaff(c, id)
}

// studentCohort is the signed-in user's current cohort as a student (the
// one most recently joined), nil when anonymous or in none.
func (s *Server) studentCohort(c echo.Context) *store.Cohort {
	u := s.currentUser(c)
	if u == nil {
		return nil
	}
	if cached, ok := c.Get("auth.studentCohort").(*store.Cohort); ok {
		return cached
	}
	cohort, err := s.db.StudentCohort(c.Request().Context(), u.ID)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Warn("student cohort", "user", u.ID, "err", err)
		}
		return nil
	}
	c.Set("auth.studentCohort", cohort)
	return cohort
}
