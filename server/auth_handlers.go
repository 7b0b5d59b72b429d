package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/web"
)

// Lifetimes of one-time links.
const (
	setupLinkTTL  = 24 * time.Hour
	inviteLinkTTL = 7 * 24 * time.Hour
)

func (s *Server) signInForm(c echo.Context) error {
	next := c.QueryParam("next")
	if !utf8Safe(next) {
		next = ""
	}
	return s.render(c, "signin", web.SignInPage{Page: s.page(c, "Sign in"), Next: safeNext(next)})
}

func (s *Server) signIn(c echo.Context) error {
	f, err := newForm(c)
	if err != nil {
		return err
	}
	next, _ := f.raw("next", 2000)
	next = safeNext(next)
	email := f.email("email")
	password := f.password("password", false)
	page := web.SignInPage{Page: s.page(c, "Sign in"), Next: next}
	if !f.ok() {
		page.Form = f.web()
		return s.renderStatus(c, http.StatusUnprocessableEntity, "signin", page)
	}
	u, err := s.authenticate(c.Request().Context(), email, password, clientIP(c))
	var th errThrottled
	switch {
	case errors.As(err, &th):
		page.Form, page.Message = f.web(), th.appError().Message
		c.Response().Header().Set("Retry-After", fmt.Sprint(int(th.wait.Seconds())+1))
		return s.renderStatus(c, http.StatusTooManyRequests, "signin", page)
	case errors.Is(err, errBadCredentials):
		page.Form, page.Message = f.web(), "Wrong email or password."
		return s.renderStatus(c, http.StatusUnauthorized, "signin", page)
	case err != nil:
		return err
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) signOut(c echo.Context) error {
	if err := s.endSession(c); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

// setupToken reads the :token parameter and finds its unused link.
func (s *Server) setupToken(c echo.Context) (string, *store.SetupToken, error) {
	tok := c.Param("token")
	if !wellFormedToken(tok) {
		return "", nil, Errorf(http.StatusNotFound, "This setup link is not valid. Ask for a new one.")
	}
	st, err := s.db.ValidSetupToken(c.Request().Context(), hashToken(tok))
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, Errorf(http.StatusGone, "This setup link has been used or has expired. Ask for a new one (an admin can run: workshop admin setup-link).")
	}
	return tok, st, err
}

func (s *Server) setupForm(c echo.Context) error {
	tok, st, err := s.setupToken(c)
	if err != nil {
		return err
	}
	return s.render(c, "setup", web.SetupPage{Page: s.page(c, "Create your account"), Token: tok, Role: st.Role})
}

func (s *Server) setup(c echo.Context) error {
	tok, st, err := s.setupToken(c)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	name := f.text("name", 100, true, personPunct, "A name")
	email := f.email("email")
	password := f.password("password", true)
	page := web.SetupPage{Page: s.page(c, "Create your account"), Token: tok, Role: st.Role}
	if f.ok() {
		u, err := s.db.UseSetupToken(c.Request().Context(), hashToken(tok), store.NewUser{Email: email, Name: name, PasswordHash: hashPassword(password)})
		switch {
		case errors.Is(err, store.ErrConflict):
			f.fail("email", "This email cannot be used for a new account. If it is yours, sign in instead.")
		case errors.Is(err, store.ErrNotFound):
			return Errorf(http.StatusGone, "This setup link has been used or has expired.")
		case err != nil:
			return err
		default:
			s.log.Info("account created from setup link", "user", u.ID, "role", u.Role)
			if err := s.startSession(c, u); err != nil {
				return err
			}
			if u.IsAdmin() {
				return c.Redirect(http.StatusSeeOther, "/admin/users")
			}
			return c.Redirect(http.StatusSeeOther, "/cohorts")
		}
	}
	page.Form = f.web()
	return s.renderStatus(c, http.StatusUnprocessableEntity, "setup", page)
}

// NewSetupLink creates a one-time link that makes an account with role
// (admin or instructor), valid for ttl, and returns its URL under base.
func NewSetupLink(ctx context.Context, db *store.DB, base, role string, createdBy *int64, ttl time.Duration) (string, error) {
	tok := newToken()
	if err := db.CreateSetupToken(ctx, hashToken(tok), role, createdBy, time.Now().Add(ttl)); err != nil {
		return "", err
	}
	return strings.TrimSuffix(base, "/") + "/setup/" + tok, nil
}

// AnnounceSetup prints a one-time setup link for the first admin to w when
// the database has no account yet; base is the server's public URL.
func (s *Server) AnnounceSetup(ctx context.Context, w io.Writer, base string) error {
	n, err := s.db.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	if s.baseURL != "" {
		base = s.baseURL
	}
	link, err := NewSetupLink(ctx, s.db, base, store.RoleAdmin, nil, setupLinkTTL)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "\nNo account exists yet. Create the administrator account within 24 hours at this one-time link:\n\n    %s\n\n(or run: workshop admin create --email you@example.org)\n\n", link)
	return err
}

// publicBase is the server's URL for links shown on pages.
func (s *Server) publicBase(c echo.Context) string {
	if s.baseURL != "" {
		return strings.TrimSuffix(s.baseURL, "/")
	}
	return c.Scheme() + "://" + c.Request().Host
}

// normalizeJoinCode accepts codes as people type them: any case, with
// spaces or dashes.
func normalizeJoinCode(code string) (string, bool) {
	code = strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(code)))
	if len(code) < 4 || len(code) > 32 || strings.Trim(code, joinAlphabet) != "" {
		return "", false
	}
	return code, true
}

// joinCodeForm asks for a code (GET /join?code=... continues to the link).
func (s *Server) joinCodeForm(c echo.Context) error {
	raw := c.QueryParam("code")
	if raw == "" {
		return s.render(c, "join", web.JoinCodePage{Page: s.page(c, "Join a cohort")})
	}
	if code, ok := normalizeJoinCode(raw); ok {
		return c.Redirect(http.StatusSeeOther, "/join/"+code)
	}
	shown := raw
	if !utf8Safe(shown) || len(shown) > 40 {
		shown = ""
	}
	return s.renderStatus(c, http.StatusUnprocessableEntity, "join", web.JoinCodePage{Page: s.page(c, "Join a cohort"),
		Form: web.Form{Values: map[string]string{"code": shown}, Errors: map[string]string{"code": "Not a join code: letters and digits, like K7QX2M9P."}}})
}

// joinCohort loads the cohort of an invite link.
func (s *Server) joinCohort(c echo.Context) (*store.Cohort, error) {
	code, ok := normalizeJoinCode(c.Param("code"))
	if !ok {
		return nil, Errorf(http.StatusNotFound, "This invite link is not valid. Ask your instructor for the current one.")
	}
	cohort, err := s.db.CohortByJoinCode(c.Request().Context(), code)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(http.StatusNotFound, "This invite link is not valid. Ask your instructor for the current one.")
	}
	return cohort, err
}

func (s *Server) joinForm(c echo.Context) error {
	cohort, err := s.joinCohort(c)
	if err != nil {
		return err
	}
	p := web.SignUpPage{Page: s.page(c, "Join "+cohort.Name), CohortName: cohort.Name, Code: cohort.JoinCode, Closed: !cohort.JoinOpen}
	if p.Closed {
		return s.renderStatus(c, http.StatusGone, "signup", p)
	}
	return s.render(c, "signup", p)
}

// join adds the signed-in user to the cohort, or creates an account for an
// anonymous visitor and adds it.
func (s *Server) join(c echo.Context) error {
	cohort, err := s.joinCohort(c)
	if err != nil {
		return err
	}
	p := web.SignUpPage{Page: s.page(c, "Join "+cohort.Name), CohortName: cohort.Name, Code: cohort.JoinCode}
	if !cohort.JoinOpen {
		p.Closed = true
		return s.renderStatus(c, http.StatusGone, "signup", p)
	}
	ctx := c.Request().Context()
	if u := s.currentUser(c); u != nil {
		if err := s.db.AddMember(ctx, cohort.ID, u.ID, store.RoleStudent); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/")
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	name := f.text("name", 100, true, personPunct, "A name")
	email := f.email("email")
	password := f.password("password", true)
	if !f.ok() {
		p.Form = f.web()
		return s.renderStatus(c, http.StatusUnprocessableEntity, "signup", p)
	}
	u, err := s.db.CreateUser(ctx, store.NewUser{Email: email, Name: name, Role: store.RoleStudent, PasswordHash: hashPassword(password)})
	if errors.Is(err, store.ErrConflict) {
		// The address has an account. Its owner, typing its password, is
		// signed in and joins; anyone else learns no more than sign-in
		// would tell them, under the same throttle.
		u, err = s.authenticate(ctx, email, password, clientIP(c))
		var th errThrottled
		switch {
		case errors.As(err, &th):
			p.Form, p.Message = f.web(), th.appError().Message
			return s.renderStatus(c, http.StatusTooManyRequests, "signup", p)
		case errors.Is(err, errBadCredentials):
			f.fail("email", "This email cannot be used for a new account. If you already have one, sign in with it and open this invite link again.")
			p.Form = f.web()
			return s.renderStatus(c, http.StatusConflict, "signup", p)
		case err != nil:
			return err
		}
	} else if err != nil {
		return err
	}
	if err := s.db.AddMember(ctx, cohort.ID, u.ID, store.RoleStudent); err != nil {
		return err
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}
