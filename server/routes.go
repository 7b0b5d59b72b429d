package server

import "net/http"

// routes lists every route in one place.
func (s *Server) routes() {
	e := s.echo
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/static/*", s.static)
	e.GET("/", s.home)

	// Accounts: sign-in, sign-up through an invite, one-time setup links.
	e.GET("/signin", s.signInForm)
	e.POST("/signin", s.signIn)
	e.POST("/signout", s.signOut)
	e.GET("/setup/:token", s.setupForm)
	e.POST("/setup/:token", s.setup)
	e.GET("/join", s.joinCodeForm)
	e.GET("/join/:code", s.joinForm)
	e.POST("/join/:code", s.join)
	e.GET("/account", s.account, s.requireUser)
	e.POST("/account", s.updateAccount, s.requireUser)
	e.POST("/account/password", s.changePassword, s.requireUser)
	e.POST("/account/tokens", s.createTokenForm, s.requireUser)
	e.POST("/account/tokens/:id/revoke", s.revokeTokenForm, s.requireUser)

	// Cohorts (instructors of the cohort and admins; see authz.go).
	e.GET("/cohorts", s.cohorts, s.requireStaff)
	e.POST("/cohorts", s.createCohort, s.requireStaff)
	e.GET("/cohorts/:id", s.cohortPage, s.requireStaff)
	e.POST("/cohorts/:id/settings", s.updateCohortSettings, s.requireStaff)
	e.POST("/cohorts/:id/join-code", s.newJoinCodeForm, s.requireStaff)
	e.POST("/cohorts/:id/instructors", s.addInstructorForm, s.requireStaff)
	e.POST("/cohorts/:id/members/:user/remove", s.removeMemberForm, s.requireStaff)

	// Administration.
	e.GET("/admin/users", s.adminUsers, s.requireAdmin)
	e.POST("/admin/users/:id/role", s.changeRoleForm, s.requireAdmin)
	e.POST("/admin/invites", s.inviteInstructorForm, s.requireAdmin)

	// JSON API (API token or session; see docs/api.md).
	api := e.Group("/api/v1")
	api.POST("/tokens", s.apiCreateToken, s.requireUser)
	api.GET("/me", s.apiMe, s.requireUser)
	api.GET("/cohorts", s.apiCohorts, s.requireStaff)
	api.POST("/cohorts", s.apiCreateCohort, s.requireStaff)
	api.GET("/cohorts/:id", s.apiCohort, s.requireStaff)
	api.PUT("/cohorts/:id", s.apiUpdateCohort, s.requireStaff)
	api.POST("/cohorts/:id/join-code", s.apiRotateJoinCode, s.requireStaff)
	api.GET("/cohorts/:id/members", s.apiMembers, s.requireStaff)
	api.DELETE("/cohorts/:id/members/:user", s.apiRemoveMember, s.requireStaff)
	api.POST("/cohorts/:id/instructors", s.apiAddInstructor, s.requireStaff)
	api.GET("/users", s.apiUsers, s.requireAdmin)
	api.POST("/instructor-invites", s.apiInviteInstructor, s.requireAdmin)
}
