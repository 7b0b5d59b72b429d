package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/web"
)

// healthz says the process is alive; it touches nothing else.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "version": s.version})
}

// readyz says whether the server can do its work: the database answers.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "not ready", "database": "unreachable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready", "database": "ok"})
}

// static serves fingerprinted assets for a year, and any asset by its
// plain name with revalidation.
func (s *Server) static(c echo.Context) error {
	p := strings.TrimPrefix(c.Param("*"), "/")
	data, etag, name, ok := s.web.Assets().Lookup(p)
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	h := c.Response().Header()
	h.Set("ETag", etag)
	if p != name {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, no-cache")
	}
	if match := c.Request().Header.Get("If-None-Match"); match == etag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, contentType(name), data)
}

func contentType(name string) string {
	switch {
	case strings.HasSuffix(name, ".css"):
		return "text/css; charset=utf-8"
	case strings.HasSuffix(name, ".js"):
		return "text/javascript; charset=utf-8"
	case strings.HasSuffix(name, ".svg"):
		return "image/svg+xml"
	case strings.HasSuffix(name, ".sh"):
		return "text/x-shellscript; charset=utf-8"
	}
	return "application/octet-stream"
}

func (s *Server) home(c echo.Context) error {
	course := s.course()
	p := web.HomePage{Page: s.page(c, ""), CourseTitle: course.Title, CourseSummary: course.Summary}
	for _, v := range course.Variants {
		p.Variants = append(p.Variants, web.Link{Title: v.Title, URL: "/guide/" + v.ID, Note: v.Summary})
	}
	// The steps in the reader's variant, with a signed-in student's marks
	// and the first part not done yet.
	steps, topics, bonus := s.navItems(course, s.preferredVariant(c), "", s.marks(c))
	for _, it := range steps {
		p.Steps = append(p.Steps, web.Link{Title: it.Title, URL: it.URL, Mark: it.Mark})
	}
	for i, t := range course.Topics {
		p.Topics = append(p.Topics, web.Link{Title: t.Title, URL: topics[i].URL, Note: t.Summary, Mark: topics[i].Mark})
	}
	for _, b := range bonus {
		p.Bonus = append(p.Bonus, web.Link{Title: b.Title, URL: b.URL, Mark: b.Mark})
	}
	if s.currentUser(c) != nil {
		started, next := false, (*web.Link)(nil)
		for _, group := range [][]web.Link{p.Steps, p.Topics, p.Bonus} {
			for i := range group {
				started = started || group[i].Mark != ""
				if next == nil && group[i].Mark != "done" {
					next = &group[i]
				}
			}
		}
		switch {
		case next == nil:
			p.AllDone = true
		case started:
			p.Continue = &web.Link{Title: next.Title, URL: next.URL}
		}
	}
	if n, err := s.db.CountUsers(c.Request().Context()); err == nil && n == 0 {
		p.SetupPending = true
	}
	return s.render(c, "home", p)
}
