package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/web"
)

// maxListedUsers bounds the admin list.
const maxListedUsers = 1000

func (s *Server) adminUsersPage(c echo.Context, invite, message string, status int, edits ...func(*web.AdminUsersPage)) error {
	users, err := s.db.ListUsers(c.Request().Context(), maxListedUsers)
	if err != nil {
		return err
	}
	me := s.currentUser(c)
	p := web.AdminUsersPage{Page: s.page(c, "Accounts"), InviteURL: invite, Message: message}
	p.Nav = "admin"
	for _, u := range users {
		p.Users = append(p.Users, web.UserRow{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, CreatedAt: u.CreatedAt, Self: u.ID == me.ID})
	}
	for _, edit := range edits {
		edit(&p)
	}
	return s.renderStatus(c, status, "admin_users", p)
}

func (s *Server) adminUsers(c echo.Context) error {
	return s.adminUsersPage(c, "", "", http.StatusOK)
}

// setRole changes a user's role; the message says why it could not.
func (s *Server) setRole(c echo.Context, userID int64, role string) (*store.User, error) {
	u, err := s.db.SetRole(c.Request().Context(), userID, role)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, Errorf(http.StatusNotFound, "There is no such account.")
	case errors.Is(err, store.ErrConflict):
		return nil, Errorf(http.StatusConflict, "The server needs at least one admin; make someone else admin first.")
	case err != nil:
		return nil, err
	}
	s.log.Info("role changed", "user", userID, "role", role, "by", s.currentUser(c).ID)
	return u, nil
}

func (s *Server) changeRoleForm(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return Errorf(http.StatusNotFound, "There is no such account.")
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	role := f.choice("role", store.RoleStudent, store.RoleInstructor, store.RoleAdmin)
	if !f.ok() {
		return s.adminUsersPage(c, "", "Choose student, instructor or admin.", http.StatusUnprocessableEntity)
	}
	if _, err := s.setRole(c, id, role); err != nil {
		var app *AppError
		if errors.As(err, &app) && app.Code == http.StatusConflict {
			return s.adminUsersPage(c, "", app.Message, app.Code)
		}
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/users")
}

// newInstructorInvite returns a one-time instructor setup link.
func (s *Server) newInstructorInvite(c echo.Context) (string, error) {
	by := s.currentUser(c).ID
	return NewSetupLink(c.Request().Context(), s.db, s.publicBase(c), store.RoleInstructor, &by, inviteLinkTTL)
}

func (s *Server) inviteInstructorForm(c echo.Context) error {
	link, err := s.newInstructorInvite(c)
	if err != nil {
		return err
	}
	return s.adminUsersPage(c, link, "", http.StatusOK)
}
