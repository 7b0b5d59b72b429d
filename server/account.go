package server

import (
	"errors"
	"net/http"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/web"
)

// utf8Safe reports whether s is valid UTF-8 without control characters,
// fit to be shown back.
func utf8Safe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// accountNotices are the messages a redirect back to /account may show.
var accountNotices = map[string]string{
	"saved":    "Your profile is saved.",
	"password": "Your password is changed. Every other session is signed out.",
	"revoked":  "The token is revoked.",
}

// accountPage builds the account page around the forms given (nil means a
// fresh form filled from the account).
func (s *Server) accountPage(c echo.Context, profile, password, token *web.Form) (web.AccountPage, error) {
	u := s.currentUser(c)
	p := web.AccountPage{Page: s.page(c, "Your account"), Email: u.Email, Role: u.Role}
	p.Nav = "account"
	if msg, ok := accountNotices[c.QueryParam("m")]; ok {
		p.Flash = msg
	}
	if profile != nil {
		p.Profile = *profile
	} else {
		p.Profile = web.Form{Values: map[string]string{"name": u.Name, "preferred_variant": u.PreferredVariant}}
	}
	if password != nil {
		p.Password = *password
	}
	if token != nil {
		p.TokenForm = *token
	}
	tokens, err := s.db.ListAPITokens(c.Request().Context(), u.ID)
	if err != nil {
		return p, err
	}
	for _, t := range tokens {
		row := web.APITokenRow{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt, Revoked: t.RevokedAt != nil}
		if t.LastUsed != nil {
			row.LastUsed = *t.LastUsed
		}
		p.Tokens = append(p.Tokens, row)
	}
	return p, nil
}

func (s *Server) account(c echo.Context) error {
	p, err := s.accountPage(c, nil, nil, nil)
	if err != nil {
		return err
	}
	return s.render(c, "account", p)
}

func (s *Server) updateAccount(c echo.Context) error {
	f, err := newForm(c)
	if err != nil {
		return err
	}
	name := f.text("name", 100, true, personPunct, "A name")
	variant := f.choice("preferred_variant", "", "guided", "concepts")
	if !f.ok() {
		wf := f.web()
		p, err := s.accountPage(c, &wf, nil, nil)
		if err != nil {
			return err
		}
		return s.renderStatus(c, http.StatusUnprocessableEntity, "account", p)
	}
	if _, err := s.db.UpdateProfile(c.Request().Context(), s.currentUser(c).ID, name, variant); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account?m=saved")
}

func (s *Server) changePassword(c echo.Context) error {
	f, err := newForm(c)
	if err != nil {
		return err
	}
	u := s.currentUser(c)
	current := f.password("current_password", false)
	next := f.password("new_password", true)
	confirm := f.password("confirm_password", false)
	if next != "" && confirm != "" && next != confirm {
		f.fail("confirm_password", "Does not match the new password.")
	}
	status := http.StatusUnprocessableEntity
	if f.ok() {
		_, err := s.authenticate(c.Request().Context(), u.Email, current, clientIP(c))
		var th errThrottled
		switch {
		case errors.As(err, &th):
			f.fail("current_password", th.appError().Message)
			status = http.StatusTooManyRequests
		case errors.Is(err, errBadCredentials):
			f.fail("current_password", "This is not your current password.")
			status = http.StatusUnauthorized
		case err != nil:
			return err
		}
	}
	if !f.ok() {
		wf := f.web()
		p, err := s.accountPage(c, nil, &wf, nil)
		if err != nil {
			return err
		}
		return s.renderStatus(c, status, "account", p)
	}
	var keep []byte
	if sess := currentSession(c); sess != nil {
		keep = sess.TokenHash
	}
	if err := s.db.SetPassword(c.Request().Context(), u.ID, hashPassword(next), keep); err != nil {
		return err
	}
	s.log.Info("password changed", "user", u.ID)
	return c.Redirect(http.StatusSeeOther, "/account?m=password")
}

func (s *Server) createTokenForm(c echo.Context) error {
	f, err := newForm(c)
	if err != nil {
		return err
	}
	name := f.text("token_name", 100, true, titlePunct, "A token name")
	if !f.ok() {
		wf := f.web()
		p, err := s.accountPage(c, nil, nil, &wf)
		if err != nil {
			return err
		}
		return s.renderStatus(c, http.StatusUnprocessableEntity, "account", p)
	}
	tok, _, err := s.newAPIToken(c, name)
	if err != nil {
		return err
	}
	p, err := s.accountPage(c, nil, nil, nil)
	if err != nil {
		return err
	}
	p.NewToken, p.NewTokenName = tok, name
	return s.render(c, "account", p)
}

// newAPIToken makes a token for the signed-in user and returns it (the
// only time it exists outside the client).
func (s *Server) newAPIToken(c echo.Context, name string) (string, *store.APIToken, error) {
	tok := "wst_" + newToken()
	t, err := s.db.CreateAPIToken(c.Request().Context(), s.currentUser(c).ID, name, hashToken(tok))
	return tok, t, err
}

func (s *Server) revokeTokenForm(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return Errorf(http.StatusNotFound, "There is no such token.")
	}
	if err := s.db.RevokeAPIToken(c.Request().Context(), s.currentUser(c).ID, id); errors.Is(err, store.ErrNotFound) {
		return Errorf(http.StatusNotFound, "There is no such token.")
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account?m=revoked")
}
