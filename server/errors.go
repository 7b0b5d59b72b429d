package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/web"
)

// AppError is an error whose message is safe to show to the user.
type AppError struct {
	Code    int
	Message string
	Err     error // the cause, logged, never shown
}

func (e *AppError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%d %s", e.Code, e.Message)
}

func (e *AppError) Unwrap() error { return e.Err }

// Errorf builds an AppError with a message safe to show.
func Errorf(code int, format string, args ...any) *AppError {
	return &AppError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// errorResponse is the JSON shape of every /api/ error.
type errorResponse struct {
	Error     string            `json:"error"`
	Fields    map[string]string `json:"fields,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
}

// FieldErrors is a 400/422 whose messages name each bad field.
type FieldErrors struct {
	Code   int
	Fields map[string]string
}

func (f *FieldErrors) Error() string {
	var parts []string
	for k, v := range f.Fields {
		parts = append(parts, k+": "+v)
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// handleError is the one place errors become responses: typed errors
// keep their code and safe message, anything else is a 500 whose details
// go to the log only.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg := http.StatusInternalServerError, "The server hit an unexpected problem. It has been logged; please try again."
	var fields map[string]string
	var app *AppError
	var he *echo.HTTPError
	var fe *FieldErrors
	switch {
	case errors.As(err, &fe):
		code, msg, fields = fe.Code, "Some fields need attention.", fe.Fields
	case errors.As(err, &app):
		code, msg = app.Code, app.Message
	case errors.As(err, &he):
		code = he.Code
		msg = http.StatusText(code)
		if m, ok := he.Message.(string); ok && code < 500 {
			msg = m
		}
		if code == http.StatusNotFound {
			msg = "There is no page at this address."
		}
	case errors.Is(err, store.ErrNotFound):
		code, msg = http.StatusNotFound, "There is no such item."
	case store.IsUnavailable(err) || errors.Is(err, context.DeadlineExceeded):
		code, msg = http.StatusServiceUnavailable, "The database is not reachable right now. Please try again in a few seconds."
	}
	reqID := c.Response().Header().Get(echo.HeaderXRequestID)
	if code >= 500 {
		s.log.Error("request failed", "status", code, "method", c.Request().Method, "path", c.Request().URL.Path, "request_id", reqID, "err", err)
	} else {
		s.log.Debug("request refused", "status", code, "path", c.Request().URL.Path, "err", err)
	}
	if wantsJSON(c) {
		_ = c.JSON(code, errorResponse{Error: msg, Fields: fields, RequestID: reqID})
		return
	}
	page := web.ErrorPage{Page: s.page(c, http.StatusText(code)), Status: code, Message: msg, RequestID: reqID}
	if fields != nil {
		var parts []string
		for k, v := range fields {
			parts = append(parts, k+": "+v)
		}
		page.Message = strings.Join(parts, " · ")
	}
	if rerr := s.renderStatus(c, code, "error", page); rerr != nil {
		s.log.Error("render error page", "err", rerr)
		_ = c.String(code, msg)
	}
}

func wantsJSON(c echo.Context) bool {
	p := c.Request().URL.Path
	return strings.HasPrefix(p, "/api/") || strings.Contains(c.Request().Header.Get("Accept"), "application/json") && !strings.Contains(c.Request().Header.Get("Accept"), "text/html")
}

// logLevelFor keeps client errors out of the error log.
func logLevelFor(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}
