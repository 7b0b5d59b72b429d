package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/store/storetest"
)

// benchChecks are the course's checks by step (the grader's ids) with a
// few realistic diagnoses of each.
var benchChecks = []struct {
	step, check string
	kinds       []string
}{
	{"stop-old-container", "old-container-removed", []string{"old-container-running", "exited-leftovers"}},
	{"stop-old-container", "port-8000-single-owner", []string{"port-conflict", "port-already-allocated"}},
	{"build-image", "docker-reachable", []string{"refused", "timeout", "tls-unknown-ca"}},
	{"build-image", "app-image-built", []string{"no-image", "wrong-folder"}},
	{"list-images", "app-image-tagged", []string{"untagged"}},
	{"run-interactive", "app-container-interactive", []string{"missing-t", "missing-i", "no-container"}},
	{"publish-port", "port-8000-published", []string{"not-published", "bound-to-loopback", "random-host-port", "wrong-container-port"}},
	{"verify-browser", "app-answers-http", []string{"disallowed-host", "refused", "timeout"}},
	{"open-security-group", "security-group-allows-8000", []string{"port-closed", "wrong-port"}},
	{"open-security-group", "security-group-no-risky-rules", []string{"open-ssh-world"}},
	{"open-security-group", "instance-type-free-tier", []string{"not-free-tier", "plan-not-declared"}},
	{"docker-networking", "user-network-with-app", []string{"default-bridge", "no-user-network"}},
	{"multi-stage-builds", "multi-stage-image-smaller", []string{"no-multi-stage", "not-smaller"}},
	{"multi-stage-builds", "multi-stage-container-runs", []string{"missing-packages", "container-exited"}},
	{"entrypoint-vs-cmd", "image-entrypoint-and-cmd", []string{"cmd-only", "entrypoint-only"}},
}

// seedLarge fills a cohort with students students and runs check runs
// (bulk COPY), plus a few quiz attempts each.
func seedLarge(b *testing.B, db *store.DB, students, runs int) *store.Cohort {
	b.Helper()
	ctx := context.Background()
	inst, err := db.CreateUser(ctx, store.NewUser{Email: "bench-teacher@example.org", Name: "Teacher", Role: store.RoleInstructor, PasswordHash: "x"})
	if err != nil {
		b.Fatal(err)
	}
	co, err := db.CreateCohort(ctx, store.CohortSettings{Name: "Bench", JoinOpen: true, DefaultVariant: "guided", PassMark: 0.7}, "BENCHCODE1", inst.ID)
	if err != nil {
		b.Fatal(err)
	}
	var ids []int64
	if err := db.Pool.QueryRow(ctx, `
		WITH u AS (
			INSERT INTO users (email, name, role, password_hash)
			SELECT 'bench' || g || '@example.org', 'Student ' || g, 'student', 'x' FROM generate_series(1, $1) g
			RETURNING id),
		m AS (INSERT INTO cohort_members (cohort_id, user_id, role) SELECT $2, id, 'student' FROM u)
		SELECT array_agg(id ORDER BY id) FROM u`, students, co.ID).Scan(&ids); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now().Add(-30 * 24 * time.Hour)
	perStudent := runs / students
	rows := make([][]any, 0, runs)
	var quizRows [][]any
	batch := int64(0)
	for _, uid := range ids {
		t := start.Add(time.Duration(rng.IntN(3600)) * time.Second)
		skill := rng.Float64() // how likely each run passes
		for i := 0; i < perStudent; i++ {
			c := benchChecks[i%len(benchChecks)]
			status, kind := "pass", ""
			if rng.Float64() > skill*float64(i+1)/float64(perStudent) {
				status, kind = "fail", c.kinds[rng.IntN(len(c.kinds))]
			}
			batch++
			t = t.Add(time.Duration(30+rng.IntN(600)) * time.Second)
			rows = append(rows, []any{uid, co.ID, batch, c.step, c.check, status, kind, c.check, status + " " + kind, []byte(`["seen"]`), "", "student", t, int32(200 + rng.IntN(800))})
		}
		for _, q := range []string{"clone", "build-image", "publish-port", "open-security-group"} {
			score := float32(rng.IntN(11)) / 10
			quizRows = append(quizRows, []any{uid, co.ID, q, []byte(`{}`), []byte(`[]`), score, int32(score * 10), int32(10), t})
		}
	}
	// Bulk load with the per-run trigger off, then summarise set-based.
	if _, err := db.Pool.Exec(ctx, `ALTER TABLE check_runs DISABLE TRIGGER check_runs_track`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Pool.CopyFrom(ctx, pgx.Identifier{"check_runs"},
		[]string{"user_id", "cohort_id", "batch_id", "step_id", "check_id", "status", "kind", "title", "summary", "evidence", "hint", "source", "started_at", "duration_ms"},
		pgx.CopyFromRows(rows)); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `ALTER TABLE check_runs ENABLE TRIGGER check_runs_track`); err != nil {
		b.Fatal(err)
	}
	if err := db.RebuildCheckProgress(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Pool.CopyFrom(ctx, pgx.Identifier{"quiz_attempts"},
		[]string{"user_id", "cohort_id", "quiz_id", "answers", "results", "score", "correct", "total", "created_at"},
		pgx.CopyFromRows(quizRows)); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	return co
}

// BenchmarkDashboard seeds 1,000 students and 200,000 check runs and
// times the queries behind the matrix and the stuck-point analytics
// (target: under 100 ms each). Run: go test -bench Dashboard -run '^$' ./store/
func BenchmarkDashboard(b *testing.B) {
	db := storetest.New(b)
	ctx := context.Background()
	start := time.Now()
	co := seedLarge(b, db, 1000, 200_000)
	var n int
	_ = db.Pool.QueryRow(ctx, `SELECT count(*) FROM check_runs`).Scan(&n)
	fmt.Printf("seeded 1000 students, %d check runs in %s\n", n, time.Since(start).Round(time.Millisecond))
	var one int64
	_ = db.Pool.QueryRow(ctx, `SELECT min(user_id) FROM cohort_members WHERE cohort_id = $1 AND role = 'student'`, co.ID).Scan(&one)
	queries := []struct {
		name string
		run  func() error
	}{
		{"matrix", func() error {
			sps, err := db.CohortProgress(ctx, co.ID, 0)
			if err == nil && len(sps) != 1000 {
				err = fmt.Errorf("%d students", len(sps))
			}
			return err
		}},
		{"matrix-row", func() error { _, err := db.CohortProgress(ctx, co.ID, one); return err }},
		{"check-stats", func() error { _, err := db.CohortCheckStats(ctx, co.ID, 3); return err }},
		{"raised-hands", func() error { _, err := db.RaisedHands(ctx, co.ID, 3); return err }},
	}
	// PostgreSQL's own execution time of each statement (server-side).
	for _, st := range store.DashboardStatements() {
		var plan []map[string]any
		best := 0.0
		for i := 0; i < 5; i++ {
			if err := db.Pool.QueryRow(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+st.SQL, st.Args(co.ID)...).Scan(&plan); err != nil {
				b.Fatal(err)
			}
			if ms, _ := plan[0]["Execution Time"].(float64); i == 0 || ms < best {
				best = ms
			}
		}
		fmt.Printf("postgres execution %-24s %7.2f ms (best of 5)\n", st.Name, best)
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if err := q.run(); err != nil {
					b.Fatal(err)
				}
			}
			ms := float64(b.Elapsed().Microseconds()) / 1000 / float64(b.N)
			b.ReportMetric(ms, "ms/op")
			fmt.Printf("dashboard query %-13s %7.2f ms per call (target < 100 ms)\n", q.name, ms)
		})
	}
}
