package server

import "net/http"

// routes lists every route in one place.
func (s *Server) routes() {
	e := s.echo
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/static/*", s.static)
	e.GET("/", s.home)
}
