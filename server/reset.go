package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/web"
)

// Password resets. The server sends no email, so a person who forgot
// their password asks: an instructor makes a one-time link for a student
// of their cohort, an admin for anyone, and hands it over (chat, in the
// room). The link sets a new password once, signs the person in, and
// signs out every other session of the account.

// resetLinkTTL is how long a reset link works.
const resetLinkTTL = 24 * time.Hour

// NewResetLink creates a one-time link that sets userID's password, valid
// for a day and ending the account's earlier links, and returns its URL
// under base with its expiry.
func NewResetLink(ctx context.Context, db *store.DB, base string, userID int64, createdBy *int64) (string, time.Time, error) {
	tok := newToken()
	exp := time.Now().Add(resetLinkTTL)
	if err := db.CreatePasswordReset(ctx, userID, createdBy, hashToken(tok), exp); err != nil {
		return "", time.Time{}, err
	}
	return strings.TrimSuffix(base, "/") + "/reset/" + tok, exp, nil
}

// resetLink makes a link for u on behalf of the signed-in person.
func (s *Server) resetLink(c echo.Context, u *store.User) (*web.ResetLink, error) {
	by := s.currentUser(c).ID
	link, exp, err := NewResetLink(c.Request().Context(), s.db, s.publicBase(c), u.ID, &by)
	if err != nil {
		return nil, err
	}
	s.log.Info("password reset link created", "user", u.ID, "by", by)
	return &web.ResetLink{UserID: u.ID, Email: u.Email, URL: link, ExpiresAt: exp}, nil
}

// cohortResetLink is an instructor's link for a student of their cohort.
// Instructor and admin accounts are reset by an admin only: an instructor
// must not be able to take over a colleague's account.
func (s *Server) cohortResetLink(c echo.Context) (*store.Cohort, *web.ResetLink, error) {
	cohort, err := s.cohortParam(c)
	if err != nil {
		return nil, nil, err
	}
	uid, err := memberParam(c)
	if err != nil {
		return nil, nil, err
	}
	ctx := c.Request().Context()
	member, err := s.db.HasCohortRole(ctx, cohort.ID, uid, store.RoleStudent)
	if err != nil {
		return nil, nil, err
	}
	if !member {
		return nil, nil, Errorf(http.StatusNotFound, "This person is not a student of the cohort.")
	}
	u, err := s.db.UserByID(ctx, uid)
	if err != nil {
		return nil, nil, err
	}
	if u.Role != store.RoleStudent {
		return nil, nil, Errorf(http.StatusForbidden, "This is an instructor or admin account: only an admin can make its reset link, on the Accounts page.")
	}
	link, err := s.resetLink(c, u)
	return cohort, link, err
}

func (s *Server) cohortResetLinkForm(c echo.Context) error {
	cohort, link, err := s.cohortResetLink(c)
	if err != nil {
		return err
	}
	return s.cohortDetail(c, cohort, nil, nil, http.StatusOK, func(p *web.CohortPage) { p.ResetLink = link })
}

func (s *Server) apiCohortResetLink(c echo.Context) error {
	_, link, err := s.cohortResetLink(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, resetLinkJSON(link))
}

// adminResetLink is an admin's link for any account.
func (s *Server) adminResetLink(c echo.Context) (*web.ResetLink, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, Errorf(http.StatusNotFound, "There is no such account.")
	}
	u, err := s.db.UserByID(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(http.StatusNotFound, "There is no such account.")
	}
	if err != nil {
		return nil, err
	}
	return s.resetLink(c, u)
}

func (s *Server) adminResetLinkForm(c echo.Context) error {
	link, err := s.adminResetLink(c)
	if err != nil {
		return err
	}
	return s.adminUsersPage(c, "", "", http.StatusOK, func(p *web.AdminUsersPage) { p.ResetLink = link })
}

func (s *Server) apiUserResetLink(c echo.Context) error {
	link, err := s.adminResetLink(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, resetLinkJSON(link))
}

func resetLinkJSON(l *web.ResetLink) map[string]any {
	return map[string]any{"url": l.URL, "user_id": l.UserID, "email": l.Email, "expires_at": l.ExpiresAt.UTC()}
}

// resetToken reads :token and finds the account of its unused link.
func (s *Server) resetToken(c echo.Context) (string, *store.User, error) {
	tok := c.Param("token")
	if !wellFormedToken(tok) {
		return "", nil, Errorf(http.StatusNotFound, "This password reset link is not valid: copy the whole link, or ask your instructor for a new one.")
	}
	u, err := s.db.PasswordResetUser(c.Request().Context(), hashToken(tok))
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, errResetGone()
	}
	return tok, u, err
}

func errResetGone() error {
	return Errorf(http.StatusGone, "This password reset link has been used, has expired (links work for 24 hours), or was replaced by a newer one. Ask your instructor for a new one.")
}

func (s *Server) resetForm(c echo.Context) error {
	tok, u, err := s.resetToken(c)
	if err != nil {
		return err
	}
	return s.render(c, "reset", web.ResetPage{Page: s.page(c, "Choose a new password"), Token: tok, Email: u.Email})
}

func (s *Server) reset(c echo.Context) error {
	tok, u, err := s.resetToken(c)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	password := f.password("password", true)
	confirm := f.password("confirm_password", false)
	if password != "" && confirm != "" && password != confirm {
		f.fail("confirm_password", "Does not match the new password.")
	}
	if !f.ok() {
		return s.renderStatus(c, http.StatusUnprocessableEntity, "reset",
			web.ResetPage{Page: s.page(c, "Choose a new password"), Token: tok, Email: u.Email, Form: f.web()})
	}
	u, err = s.db.UsePasswordReset(c.Request().Context(), hashToken(tok), hashPassword(password))
	if errors.Is(err, store.ErrNotFound) {
		return errResetGone()
	}
	if err != nil {
		return err
	}
	s.log.Info("password reset", "user", u.ID)
	if err := s.startSession(c, u); err != nil {
		return err
	}
	if u.IsStaff() {
		return c.Redirect(http.StatusSeeOther, "/cohorts")
	}
	return c.Redirect(http.StatusSeeOther, "/progress")
}
