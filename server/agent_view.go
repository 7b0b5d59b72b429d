package server

import (
	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/web"
)

// agentView fills the agent part of the target page.
func (s *Server) agentView(c echo.Context, userID int64) web.AgentView {
	return web.AgentView{}
}
