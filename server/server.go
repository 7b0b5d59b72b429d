// Package server is the HTTP layer: Echo routes, handlers, middleware,
// sessions, authorization and live updates. Every dependency is held
// explicitly by Server; there are no package globals.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/riverqueue/river"

	"github.com/coursekit/workshop/content"
	"github.com/coursekit/workshop/grader"
	"github.com/coursekit/workshop/grader/agent"
	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/web"
)

// Options configures a Server.
type Options struct {
	DB      *store.DB
	Web     *web.Renderer
	Log     *slog.Logger
	BaseURL string // public URL, e.g. https://course.example.org; may be empty
	Version string
	// Course is the loaded course; nil loads the built-in one.
	Course *content.Course
	// Grader runs the checks; nil makes one with the default (strict) policy.
	Grader *grader.Grader
	// Lab is how students get the lab repository.
	Lab LabOptions
	// Targets is the server-wide part of the students' target page.
	Targets TargetConfig
	// AWSEndpoint overrides the AWS endpoint for every target (moto in
	// tests and local labs); empty in production.
	AWSEndpoint string
	// CheckEvery is the shortest time between two checks of one step by one
	// student (default 10 s).
	CheckEvery time.Duration
	// Live tunes the live dashboard and the regrade workers (live.go).
	Live LiveOptions
	// Agent configures the read-only Docker agent's endpoints (agent.go).
	Agent AgentOptions
}

// LabOptions say where the lab repository is served from.
type LabOptions struct {
	RepoDir    string // a bare repository served over git's dumb HTTP protocol
	Tarball    []byte // the .tar.gz students can download
	CustomRepo string // an instructor's own repository URL, shown instead
}

// Server holds every dependency of the handlers.
type Server struct {
	db         *store.DB
	web        *web.Renderer
	log        *slog.Logger
	baseURL    string
	version    string
	echo       *echo.Echo
	auth       authConfig
	courseRef  atomic.Pointer[content.Course]
	grader     *grader.Grader
	lab        LabOptions
	checkEvery time.Duration
	checking   inflight
	targets    TargetConfig
	// agentDial, when set, dials a student's Docker host through their
	// agent's tunnel (wherever the agent is connected).
	agentDial func(userID int64) func(ctx context.Context, network, addr string) (net.Conn, error)
	// agents holds the agents connected to this replica (agent.go).
	agents    *agent.Hub
	agentOpts AgentOptions
	// awsEndpoint overrides the AWS endpoint (moto in tests).
	awsEndpoint string
	// now is the clock: "today" for the free-tier calculator; tests
	// replace it to get dated results.
	now func() time.Time
	// live fans database events out to dashboards; regrades is the job
	// queue; both run from Start (live.go, regrade.go).
	live         *hub
	liveOpts     LiveOptions
	regrades     *river.Client[pgx.Tx]
	background   sync.WaitGroup
	shuttingDown chan struct{}
}

// New builds the server and its routes.
func New(opts Options) (*Server, error) {
	if opts.DB == nil || opts.Web == nil {
		return nil, errors.New("server: DB and Web are required")
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	s := &Server{db: opts.DB, web: opts.Web, log: opts.Log, baseURL: opts.BaseURL, version: opts.Version, now: time.Now,
		grader: opts.Grader, lab: opts.Lab, checkEvery: opts.CheckEvery, awsEndpoint: opts.AWSEndpoint, targets: opts.Targets}
	if s.grader == nil {
		s.grader = grader.New(grader.Policy{}, grader.Options{})
	}
	if s.checkEvery == 0 {
		s.checkEvery = 10 * time.Second
	}
	course := opts.Course
	if course == nil {
		var err error
		if course, err = content.Load(content.DefaultFS(), content.Options{ServerURL: opts.BaseURL, KnownChecks: grader.Known}); err != nil {
			return nil, fmt.Errorf("server: built-in course: %w", err)
		}
	}
	s.courseRef.Store(course)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Server.ReadHeaderTimeout = 10 * time.Second
	e.Server.ReadTimeout = 30 * time.Second
	e.Server.IdleTimeout = 120 * time.Second
	s.echo = e
	s.auth = newAuthConfig(opts.BaseURL)
	s.middleware()
	s.useAuth()
	if err := s.initLive(opts.Live); err != nil {
		return nil, err
	}
	s.initAgents(opts.Agent)
	s.routes()
	return s, nil
}

// Handler exposes the routes (for tests).
func (s *Server) Handler() http.Handler { return s.echo }

func (s *Server) middleware() {
	e := s.echo
	e.Pre(middleware.RemoveTrailingSlashWithConfig(middleware.TrailingSlashConfig{RedirectCode: http.StatusMovedPermanently}))
	e.Use(middleware.RequestID())
	e.Use(middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURI: true, LogMethod: true, LogLatency: true, LogRequestID: true, LogRemoteIP: true, LogError: true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			status := v.Status
			if v.Error != nil {
				var he *echo.HTTPError
				var ae *AppError
				if errors.As(v.Error, &he) {
					status = he.Code
				} else if errors.As(v.Error, &ae) {
					status = ae.Code
				}
			}
			s.log.Log(c.Request().Context(), logLevelFor(status), "request",
				"method", v.Method, "uri", redactURI(v.URI), "status", status, "latency_ms", v.Latency.Milliseconds(),
				"request_id", v.RequestID, "ip", v.RemoteIP)
			return nil
		},
	}))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic", "err", err, "path", c.Request().URL.Path, "stack", string(stack))
			return err
		},
	}))
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection:         "0",
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		ReferrerPolicy:        "same-origin",
		ContentSecurityPolicy: "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
	}))
	e.Use(middleware.GzipWithConfig(middleware.GzipConfig{
		Skipper: func(c echo.Context) bool {
			// Streams must not be buffered by the compressor, and the
			// agent's websocket and the replicas' tunnel are upgraded
			// connections, not compressible responses.
			p := c.Request().URL.Path
			return c.Request().Header.Get("Accept") == "text/event-stream" || p == agent.ConnectPath || p == internalDialPath
		},
	}))
	e.Use(middleware.BodyLimit("2M"))
}

// Serve listens on addr until ctx is done, then lets in-flight requests
// finish (up to grace) before returning.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	s.echo.Listener = ln
	s.startAgents(ctx)
	errc := make(chan error, 1)
	go func() { errc <- s.echo.Start("") }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := s.echo.Shutdown(sctx)
	// Shutdown does not wait for the agents' websockets (hijacked
	// connections): end them, so agents reconnect at once, to this replica
	// once it is back or to another one.
	_ = s.agents.Close()
	if err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	return nil
}

// page fills the parts every page shares.
func (s *Server) page(c echo.Context, title string) web.Page {
	p := web.Page{Title: title, BaseURL: s.baseURL}
	if u := s.currentUser(c); u != nil {
		p.User = &web.User{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role}
	}
	if tok, ok := c.Get("csrf").(string); ok {
		p.CSRF = tok
	}
	return p
}

func (s *Server) render(c echo.Context, name string, data any) error {
	return s.renderStatus(c, http.StatusOK, name, data)
}

func (s *Server) renderStatus(c echo.Context, code int, name string, data any) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().Header().Set("Cache-Control", "no-store")
	var buf bytesBuffer
	if err := s.web.Render(&buf, name, data); err != nil {
		return err
	}
	c.Response().WriteHeader(code)
	_, err := c.Response().Write(buf.Bytes())
	return err
}
