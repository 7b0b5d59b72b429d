package server

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coursekit/workshop/store"
)

// BenchmarkDashboardPages times whole pages (queries, derivation,
// rendering and compression) for a cohort of 1,000 students with 200,000
// check runs: server-side, and through HTTP as a client receives them.
// Run: go test -bench Dashboard -run '^$' ./server/
func BenchmarkDashboardPages(b *testing.B) {
	h := newHarness(b)
	ctx := context.Background()
	inst := h.createUser(store.RoleInstructor)
	co := h.createCohort("Bench", inst)
	var ids []int64
	if err := h.DB.Pool.QueryRow(ctx, `
		WITH u AS (
			INSERT INTO users (email, name, role, password_hash)
			SELECT 'bench' || g || '@example.org', 'Student ' || g, 'student', 'x' FROM generate_series(1, 1000) g RETURNING id),
		m AS (INSERT INTO cohort_members (cohort_id, user_id, role) SELECT $1, id, 'student' FROM u)
		SELECT array_agg(id ORDER BY id) FROM u`, co.ID).Scan(&ids); err != nil {
		b.Fatal(err)
	}
	pages := s0(h).checkablePages()
	rng := rand.New(rand.NewPCG(3, 4))
	var runs []store.CheckRun
	var attempts []store.QuizAttempt
	start := time.Now().Add(-72 * time.Hour)
	for _, uid := range ids {
		t := start
		for i := 0; i < 200; i++ {
			p := pages[min(i/20, len(pages)-1)]
			check := p.Checks[i%len(p.Checks)]
			status, kind := "fail", "no-image"
			if rng.IntN(3) == 0 {
				status, kind = "pass", ""
			}
			t = t.Add(time.Duration(1+rng.IntN(5)) * time.Minute)
			runs = append(runs, store.CheckRun{UserID: uid, CohortID: &co.ID, BatchID: int64(len(runs)), StepID: p.ID, CheckID: check,
				Status: status, Kind: kind, Summary: "summary " + kind, StartedAt: t})
		}
		for _, p := range pages {
			attempts = append(attempts, store.QuizAttempt{UserID: uid, CohortID: &co.ID, QuizID: p.ID, Score: 0.8, Correct: 8, Total: 10, CreatedAt: t})
		}
	}
	if _, err := h.DB.Pool.Exec(ctx, `ALTER TABLE check_runs DISABLE TRIGGER check_runs_track`); err != nil {
		b.Fatal(err)
	}
	if err := h.DB.ImportRuns(ctx, runs); err != nil {
		b.Fatal(err)
	}
	if _, err := h.DB.Pool.Exec(ctx, `ALTER TABLE check_runs ENABLE TRIGGER check_runs_track`); err != nil {
		b.Fatal(err)
	}
	if err := h.DB.RebuildCheckProgress(ctx); err != nil {
		b.Fatal(err)
	}
	if err := h.DB.ImportAttempts(ctx, attempts); err != nil {
		b.Fatal(err)
	}
	if _, err := h.DB.Pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	c := h.sessionClient(inst)
	cookie := &http.Cookie{Name: sessionCookie, Value: h.cookie(c, sessionCookie)}
	base := fmt.Sprintf("/cohorts/%d", co.ID)
	for _, path := range []string{"/dashboard", "/dashboard?sort=completion&dir=asc", "/dashboard/row/" + fmt.Sprint(ids[0]), "/stuck", "/export.csv"} {
		// Server-side: the handler chain, gzip included, as a browser asks
		// for it, without the network and the client's decoding.
		b.Run("server"+path, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, base+path, nil)
				req.AddCookie(cookie)
				req.Header.Set("Accept-Encoding", "gzip")
				rec := httptest.NewRecorder()
				h.Srv.echo.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d", path, rec.Code)
				}
			}
			ms := float64(b.Elapsed().Microseconds()) / 1000 / float64(b.N)
			b.ReportMetric(ms, "ms/op")
			fmt.Printf("dashboard page %-36s %7.2f ms server-side (target < 100 ms)\n", path, ms)
		})
		// Through HTTP, as the benchmark's client receives it.
		b.Run("http"+path, func(b *testing.B) {
			for b.Loop() {
				resp := h.get(c, base+path)
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", path, resp.StatusCode)
				}
			}
			ms := float64(b.Elapsed().Microseconds()) / 1000 / float64(b.N)
			b.ReportMetric(ms, "ms/op")
			fmt.Printf("dashboard page %-36s %7.2f ms through HTTP\n", path, ms)
		})
	}
}

func s0(h *harness) *Server { return h.Srv }
