package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/coursekit/workshop/store"
)

// Session and cookie settings.
const (
	sessionCookie   = "workshop_session"
	csrfCookie      = "workshop_csrf"
	sessionLifetime = 14 * 24 * time.Hour
	// sessionTouchEvery bounds how often a request writes last_seen, so a
	// busy page does not write on every request.
	sessionTouchEvery = 5 * time.Minute
)

// Context keys set by the session middleware.
const (
	ctxUser    = "auth.user"
	ctxSession = "auth.session"
	ctxVia     = "auth.via" // "session" or "token"
)

// authConfig is what the auth middleware needs beyond the Server's deps.
type authConfig struct {
	secureBase bool // WORKSHOP_BASE_URL is https: cookies are Secure always
	throttle   throttleLimits
	csrfPlain  echo.MiddlewareFunc
	csrfSecure echo.MiddlewareFunc
}

func newAuthConfig(baseURL string) authConfig {
	return authConfig{secureBase: strings.HasPrefix(strings.ToLower(baseURL), "https://"), throttle: defaultThrottle}
}

// useAuth installs the session and CSRF middlewares, which run for every
// request.
func (s *Server) useAuth() {
	csrf := func(secure bool) echo.MiddlewareFunc {
		return middleware.CSRFWithConfig(middleware.CSRFConfig{
			Skipper:        skipCSRF,
			TokenLookup:    "form:_csrf,header:X-CSRF-Token",
			ContextKey:     "csrf",
			CookieName:     csrfCookie,
			CookiePath:     "/",
			CookieHTTPOnly: true,
			CookieSameSite: http.SameSiteLaxMode,
			CookieSecure:   secure,
			ErrorHandler: func(err error, c echo.Context) error {
				return &AppError{Code: http.StatusForbidden, Err: err,
					Message: "This form has expired or did not come from this site. Go back, reload the page and try again."}
			},
		})
	}
	s.auth.csrfPlain, s.auth.csrfSecure = csrf(false), csrf(true)
	s.echo.Use(s.sessionMiddleware)
	s.echo.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		plain, secure := s.auth.csrfPlain(next), s.auth.csrfSecure(next)
		return func(c echo.Context) error {
			if s.secureCookies(c) {
				return secure(c)
			}
			return plain(c)
		}
	})
}

// skipCSRF skips requests that carry no cookie-based authority: bearer
// API tokens (and the agent's websocket, bearer-authenticated too), and
// the static files and health probes, which change nothing and should not
// set cookies.
func skipCSRF(c echo.Context) bool {
	if bearerToken(c.Request()) != "" {
		return true
	}
	p := c.Request().URL.Path
	m := c.Request().Method
	if p == "/api/v1/freetier" {
		// The free-tier calculator's API is pure computation for anyone: it
		// reads no cookie and changes nothing, so a cross-site POST gains
		// nothing, and scripts may POST JSON to it without a token.
		return true
	}
	if m == http.MethodPost && strings.HasPrefix(p, "/connect/docker-tls/") {
		// The TLS setup script uploads the client bundle from the
		// student's instance with curl: no cookie, no session. The
		// single-use, short-lived link in the path is the authority, and a
		// forged cross-site POST would need that secret link.
		return true
	}
	return (m == http.MethodGet || m == http.MethodHead) && (strings.HasPrefix(p, "/static/") || p == "/healthz" || p == "/readyz")
}

func (s *Server) secureCookies(c echo.Context) bool { return s.auth.secureBase || c.IsTLS() }

func bearerToken(r *http.Request) string {
	h := r.Header.Get(echo.HeaderAuthorization)
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// sessionMiddleware finds who is asking: an API token on /api/ routes, or
// the session cookie. An unknown or expired session is simply anonymous
// (and its cookie is cleared).
func (s *Server) sessionMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if strings.HasPrefix(r.URL.Path, "/static/") {
			return next(c)
		}
		if tok := bearerToken(r); tok != "" {
			// Bearer requests never use cookies. Outside /api/ (the agent's
			// endpoint) the token is not ours to judge.
			if !strings.HasPrefix(r.URL.Path, "/api/") {
				return next(c)
			}
			u, err := s.db.APITokenUser(r.Context(), hashToken(tok))
			if errors.Is(err, store.ErrNotFound) {
				return Errorf(http.StatusUnauthorized, "The API token is unknown or revoked.")
			}
			if err != nil {
				return err
			}
			c.Set(ctxUser, u)
			c.Set(ctxVia, "token")
			return next(c)
		}
		ck, err := r.Cookie(sessionCookie)
		if err != nil || ck.Value == "" {
			return next(c)
		}
		h := hashToken(ck.Value)
		sess, u, err := s.db.SessionUser(r.Context(), h)
		switch {
		case errors.Is(err, store.ErrNotFound):
			s.clearSessionCookie(c)
			return next(c)
		case err != nil:
			return err
		}
		if time.Since(sess.LastSeen) > sessionTouchEvery {
			exp := time.Now().Add(sessionLifetime)
			if err := s.db.TouchSession(r.Context(), h, exp); err != nil {
				s.log.Warn("touch session", "err", err)
			} else {
				s.setSessionCookie(c, ck.Value, exp)
			}
		}
		c.Set(ctxUser, u)
		c.Set(ctxSession, sess)
		c.Set(ctxVia, "session")
		return next(c)
	}
}

// currentUser is the signed-in user, nil when anonymous.
func (s *Server) currentUser(c echo.Context) *store.User {
	u, _ := c.Get(ctxUser).(*store.User)
	return u
}

func currentSession(c echo.Context) *store.Session {
	sess, _ := c.Get(ctxSession).(*store.Session)
	return sess
}

// viaSession reports whether the request is authenticated by a browser
// session (not an API token).
func viaSession(c echo.Context) bool { return c.Get(ctxVia) == "session" }

// requireUser lets signed-in users through; browsers are sent to sign in
// and come back, API clients get a 401.
func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.currentUser(c) == nil {
			return s.signInFirst(c)
		}
		return next(c)
	}
}

// requireStaff lets instructors and admins through.
func (s *Server) requireStaff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := s.currentUser(c)
		if u == nil {
			return s.signInFirst(c)
		}
		if !u.IsStaff() {
			return Errorf(http.StatusForbidden, "This page is for instructors.")
		}
		return next(c)
	}
}

// requireAdmin lets admins through.
func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := s.currentUser(c)
		if u == nil {
			return s.signInFirst(c)
		}
		if !u.IsAdmin() {
			return Errorf(http.StatusForbidden, "This page is for administrators.")
		}
		return next(c)
	}
}

func (s *Server) signInFirst(c echo.Context) error {
	if wantsJSON(c) {
		return Errorf(http.StatusUnauthorized, "Sign in or send an API token (Authorization: Bearer ...).")
	}
	target := "/signin"
	if r := c.Request(); r.Method == http.MethodGet {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	return c.Redirect(http.StatusSeeOther, target)
}

// safeNext returns a local path to go to after signing in, or "/".
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\\") || len(next) > 2000 {
		return "/"
	}
	return next
}

// startSession signs a user in: the request's old session (if any) is
// deleted and a fresh token is issued, so a session id planted before
// sign-in is worthless after it.
func (s *Server) startSession(c echo.Context, u *store.User) error {
	ctx := c.Request().Context()
	if ck, err := c.Request().Cookie(sessionCookie); err == nil && ck.Value != "" {
		if err := s.db.DeleteSession(ctx, hashToken(ck.Value)); err != nil {
			return err
		}
	}
	tok := newToken()
	exp := time.Now().Add(sessionLifetime)
	ua := c.Request().UserAgent()
	if len(ua) > 300 {
		ua = ua[:300]
	}
	err := s.db.CreateSession(ctx, store.Session{TokenHash: hashToken(tok), UserID: u.ID, ExpiresAt: exp, IP: clientIP(c), UserAgent: strings.ToValidUTF8(ua, "")})
	if err != nil {
		return err
	}
	s.setSessionCookie(c, tok, exp)
	c.Set(ctxUser, u)
	if mrand.IntN(50) == 0 {
		// Now and then, a sign-in sweeps expired sessions and old throttle
		// windows; any replica may do it, so no scheduler is needed.
		ctx, cancel := detached(c)
		go func() {
			defer cancel()
			if _, err := s.db.DeleteExpiredSessions(ctx); err != nil {
				s.log.Warn("sweep sessions", "err", err)
			}
			if err := s.db.DeleteOldThrottles(ctx, time.Now().Add(-24*time.Hour)); err != nil {
				s.log.Warn("sweep throttles", "err", err)
			}
		}()
	}
	return nil
}

// endSession revokes the request's session and clears the cookie.
func (s *Server) endSession(c echo.Context) error {
	if ck, err := c.Request().Cookie(sessionCookie); err == nil && ck.Value != "" {
		if err := s.db.DeleteSession(c.Request().Context(), hashToken(ck.Value)); err != nil {
			return err
		}
	}
	s.clearSessionCookie(c)
	c.Set(ctxUser, nil)
	return nil
}

func (s *Server) setSessionCookie(c echo.Context, value string, exp time.Time) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: value, Path: "/", Expires: exp, MaxAge: int(time.Until(exp).Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureCookies(c)})
}

func (s *Server) clearSessionCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureCookies(c)})
}

// newToken returns 32 random bytes, URL-safe.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics on failure)
	return base64.RawURLEncoding.EncodeToString(b)
}

// wellFormedToken reports whether tok has newToken's shape, so that a
// mangled link gets its own message without a database lookup.
func wellFormedToken(tok string) bool {
	return len(tok) == 43 && strings.Trim(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == ""
}

// hashToken is what the database keeps of a secret token.
func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// clientIP is the address throttling counts against: X-Forwarded-For is
// trusted only from a proxy on a private or loopback address.
func clientIP(c echo.Context) string {
	return echo.ExtractIPFromXFFHeader()(c.Request())
}

// detached gives follow-up writes a context that survives a client that
// hangs up mid-request.
func detached(c echo.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(c.Request().Context()), 10*time.Second)
}

// redactURI hides the secret part of one-time links (account setup,
// password reset, the TLS bundle upload) in request logs: whoever reads
// the log must not be able to use an unused link.
func redactURI(uri string) string {
	for _, prefix := range []string{"/setup/", "/reset/", "/connect/docker-tls/"} {
		if strings.HasPrefix(uri, prefix) && len(uri) > len(prefix) {
			return prefix + "REDACTED"
		}
	}
	return uri
}
