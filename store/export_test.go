package store

// DashboardStatement is one of the dashboard's SQL statements with its
// arguments for a cohort, for the benchmark's EXPLAIN ANALYZE.
type DashboardStatement struct {
	Name string
	SQL  string
	Args func(cohortID int64) []any
}

// DashboardStatements lists the statements behind the matrix and the
// analytics.
func DashboardStatements() []DashboardStatement {
	all := func(id int64) []any { return []any{[]int64{id}, 0} }
	return []DashboardStatement{
		{"matrix: students", sqlCohortStudents, all},
		{"matrix: check summaries", sqlCohortChecks, all},
		{"matrix: quiz scores", sqlCohortQuizzes, all},
		{"stuck: check stats", sqlCheckStats, func(id int64) []any { return []any{id} }},
		{"stuck: diagnoses", sqlFailureKinds, func(id int64) []any { return []any{id, 3} }},
		{"stuck: raised hands", sqlRaisedHands, func(id int64) []any { return []any{id, 3} }},
	}
}
