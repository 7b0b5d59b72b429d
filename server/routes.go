package server

import (
	"net/http"

	"github.com/coursekit/workshop/grader/agent"
)

// routes lists every route in one place.
func (s *Server) routes() {
	e := s.echo
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/static/*", s.static)
	e.GET("/", s.home)

	// The course: readable by anyone (course.go); checks and quizzes need
	// a signed-in student (check.go, quiz.go).
	e.GET("/guide", s.guideIndex)
	e.GET("/guide/:variant", s.guideVariant)
	e.GET("/guide/:variant/:id", s.stepPage)
	e.GET("/topics/:id", s.topicPage)
	e.GET("/bonus/:id", s.bonusPage)
	e.POST("/steps/:id/check", s.checkStep, s.requireUser)
	e.POST("/quizzes/:id", s.submitQuiz, s.requireUser)
	e.POST("/api/v1/steps/:id/check", s.checkStep, s.requireUser)
	e.POST("/api/v1/quizzes/:id", s.submitQuiz, s.requireUser)

	// The student's own Docker host and AWS instance (target.go).
	e.GET("/target", s.targetPage, s.requireUser)
	e.POST("/target", s.saveTarget, s.requireUser)
	e.POST("/target/test", s.testTarget, s.requireUser)

	// The read-only Docker agent and the one-command setups (agent.go,
	// connect.go). The agent authenticates with its bearer token, the TLS
	// script's upload with its single-use link, the internal hop with the
	// replicas' shared secret.
	e.POST("/target/agent-token", s.createAgentToken, s.requireUser)
	e.POST("/target/agent-token/revoke", s.revokeAgentToken, s.requireUser)
	e.GET(agent.ConnectPath, s.agentConnect)
	e.GET(internalDialPath, s.internalAgentDial)
	e.GET("/agent/install.sh", s.agentInstallScript)
	e.GET("/downloads/:file", s.download)
	e.GET("/connect/docker-tls.sh", s.dockerTLSScript)
	e.POST("/connect/docker-tls/:token", s.uploadDockerTLS)
	e.GET("/connect/readonly-role.yaml", s.readOnlyRoleTemplate)

	// The lab repository, over git's dumb HTTP protocol and as a tarball.
	e.GET("/lab", s.labPage)
	e.GET("/lab/workshop-lab.tar.gz", s.labTarball)
	e.GET("/lab/workshop-lab.git/*", s.labGit)

	// Free-tier calculator: public, for anyone (see freetier.go).
	e.GET("/freetier", s.freetierPage)
	e.GET("/api/v1/freetier", s.freetierGet)
	e.POST("/api/v1/freetier", s.freetierPost)

	// Accounts: sign-in, sign-up through an invite, one-time setup links.
	e.GET("/signin", s.signInForm)
	e.POST("/signin", s.signIn)
	e.POST("/signout", s.signOut)
	e.GET("/setup/:token", s.setupForm)
	e.POST("/setup/:token", s.setup)
	e.GET("/reset/:token", s.resetForm)
	e.POST("/reset/:token", s.reset)
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
	e.POST("/cohorts/:id/members/:user/reset-link", s.cohortResetLinkForm, s.requireStaff)

	// Progress and the live cohort dashboard (progress.go, dashboard.go,
	// live.go, stuck.go, export.go, regrade.go).
	e.GET("/progress", s.progress, s.requireUser)
	e.GET("/cohorts/:id/dashboard", s.dashboard, s.requireStaff)
	e.GET("/cohorts/:id/dashboard/row/:user", s.dashboardRow, s.requireStaff)
	e.GET("/cohorts/:id/events", s.cohortEvents, s.requireStaff)
	e.GET("/cohorts/:id/students/:user", s.cohortStudent, s.requireStaff)
	e.GET("/cohorts/:id/stuck", s.cohortStuck, s.requireStaff)
	e.GET("/cohorts/:id/export.csv", s.exportCSV, s.requireStaff)
	e.GET("/cohorts/:id/export.json", s.exportJSON, s.requireStaff)
	e.POST("/cohorts/:id/regrade", s.regradeCohort, s.requireStaff)
	e.POST("/cohorts/:id/regrades/:regrade/cancel", s.cancelRegrade, s.requireStaff)
	e.GET("/admin/cohorts", s.adminCohorts, s.requireAdmin)

	// Administration.
	e.GET("/admin/users", s.adminUsers, s.requireAdmin)
	e.POST("/admin/users/:id/role", s.changeRoleForm, s.requireAdmin)
	e.POST("/admin/users/:id/reset-link", s.adminResetLinkForm, s.requireAdmin)
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
	api.POST("/cohorts/:id/members/:user/reset-link", s.apiCohortResetLink, s.requireStaff)
	api.POST("/cohorts/:id/instructors", s.apiAddInstructor, s.requireStaff)
	api.GET("/users", s.apiUsers, s.requireAdmin)
	api.PUT("/users/:id", s.apiUpdateUser, s.requireAdmin)
	api.POST("/users/:id/reset-link", s.apiUserResetLink, s.requireAdmin)
	api.POST("/instructor-invites", s.apiInviteInstructor, s.requireAdmin)
}
