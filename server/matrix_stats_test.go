package server

import (
	"context"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/coursekit/workshop/store"
)

// TestMatrixStatsMatchSQL: the dashboard derives the hardest checks' counts
// and the raised hands from the matrix it loaded; they must be what the
// stuck page's SQL computes, on a cohort with varied histories.
func TestMatrixStatsMatchSQL(t *testing.T) {
	h := newHarness(t)
	w := h.world()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 8))
	t0 := time.Now().Add(-10 * time.Hour)
	checks := [][2]string{{"build-image", "app-image-built"}, {"build-image", "docker-reachable"}, {"publish-port", "port-8000-published"}}
	kinds := []string{"no-image", "bound-to-loopback", "no-publish"}
	students := []*store.User{w.StudentA}
	for i := 0; i < 12; i++ {
		u := h.createUser(store.RoleStudent)
		h.addStudent(w.CohortA, u)
		students = append(students, u)
	}
	at := t0
	for _, u := range students {
		for n := rng.IntN(12); n > 0; n-- {
			c := checks[rng.IntN(len(checks))]
			r := store.CheckRun{UserID: u.ID, CohortID: &w.CohortA.ID, StepID: c[0], CheckID: c[1], Status: "fail",
				Kind: kinds[rng.IntN(2)], Summary: "s", StartedAt: at}
			if rng.IntN(4) == 0 {
				r.Status, r.Kind = "pass", ""
			}
			at = at.Add(time.Minute)
			if _, err := h.DB.RecordRuns(ctx, []store.CheckRun{r}); err != nil {
				t.Fatal(err)
			}
		}
	}
	all, err := h.Srv.summaries(ctx, w.CohortA, 0)
	if err != nil {
		t.Fatal(err)
	}
	sqlStats, err := h.DB.CohortCheckStats(ctx, w.CohortA.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sqlStats {
		sqlStats[i].MedianToPass, sqlStats[i].Kinds = nil, nil
	}
	if got := matrixStats(all); !reflect.DeepEqual(got, sqlStats) {
		t.Errorf("counts from the matrix:\n%+v\nfrom SQL:\n%+v", got, sqlStats)
	}
	sqlHands, err := h.DB.RaisedHands(ctx, w.CohortA.ID, raiseHandStreak)
	if err != nil {
		t.Fatal(err)
	}
	got := matrixHands(all, raiseHandStreak)
	for i := range got {
		got[i].LastAt, sqlHands[i].LastAt = got[i].LastAt.UTC(), sqlHands[i].LastAt.UTC()
	}
	if len(sqlHands) == 0 || !reflect.DeepEqual(got, sqlHands) {
		t.Errorf("raised hands from the matrix:\n%+v\nfrom SQL:\n%+v", got, sqlHands)
	}
	// And the diagnoses of chosen checks are those of the full statistics.
	pairs := [][2]string{checks[0], checks[2]}
	top, err := h.DB.TopFailureKinds(ctx, w.CohortA.ID, pairs, 1)
	if err != nil {
		t.Fatal(err)
	}
	full, err := h.DB.CohortCheckStats(ctx, w.CohortA.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range full {
		key := [2]string{st.StepID, st.CheckID}
		if key == pairs[0] || key == pairs[1] {
			if !reflect.DeepEqual(top[key], st.Kinds) {
				t.Errorf("%v: top kinds %+v, want %+v", key, top[key], st.Kinds)
			}
		} else if _, ok := top[key]; ok {
			t.Errorf("%v was not asked for", key)
		}
	}
}
