package server

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/grader/agent"
	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/web"
)

// agentView fills the agent part of the target page: whether the agent is
// connected (from the database, so every replica shows the same wherever
// the agent is connected), the token's hint and the install commands.
func (s *Server) agentView(c echo.Context, userID int64) web.AgentView {
	ctx := c.Request().Context()
	v := web.AgentView{Enabled: s.agents != nil}
	if !v.Enabled {
		return v
	}
	sess, err := s.db.AgentSession(ctx, userID)
	switch {
	case err == nil:
		// A stale session's replica stopped confirming it: show when it
		// was last seen rather than a connection nobody holds.
		v.Connected = sess.Connected && !sess.Stale
		if v.Connected {
			v.Since = sess.Since
			v.DockerVer, v.Hostname = sess.DockerVersion, sess.Hostname
		} else {
			v.LastSeen = sess.LastSeen
		}
	case !errors.Is(err, store.ErrNotFound):
		s.log.Warn("read the session of the agent", "user", userID, "err", err)
	}
	tok, err := s.db.AgentToken(ctx, userID)
	switch {
	case err == nil:
		v.HasToken = tok.RevokedAt == nil
		v.TokenHint = tok.Hint
	case !errors.Is(err, store.ErrNotFound):
		s.log.Warn("agent token", "user", userID, "err", err)
	}
	return s.fillAgentSnippets(c, v, "")
}

// fillAgentSnippets adds the install commands: with the real token right
// after it was made (token), else with a placeholder.
func (s *Server) fillAgentSnippets(c echo.Context, v web.AgentView, token string) web.AgentView {
	base := s.publicBase(c)
	v.NewToken = token
	if token == "" {
		token = "YOUR_TOKEN"
	}
	sn := agent.InstallSnippets(base, token, s.agentOpts.Image, s.agentChecksums())
	v.InstallLine, v.DockerInstallLine, v.DockerLine = sn.OneLine, sn.OneLineDocker, sn.DockerRun
	v.ScriptURL = base + "/agent/install.sh"
	v.TLSScriptURL = base + "/connect/docker-tls.sh"
	return v
}
