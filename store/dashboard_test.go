package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/store/storetest"
)

// cohortWith makes a cohort with an instructor and n students.
func cohortWith(t *testing.T, db *store.DB, n int) (*store.Cohort, []*store.User) {
	t.Helper()
	ctx := context.Background()
	inst, err := db.CreateUser(ctx, store.NewUser{Email: "teacher@example.org", Name: "Teacher", Role: store.RoleInstructor, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	co, err := db.CreateCohort(ctx, store.CohortSettings{Name: "C", JoinOpen: true, DefaultVariant: "guided", PassMark: 0.7}, "CODE"+time.Now().Format("150405.000"), inst.ID)
	if err != nil {
		t.Fatal(err)
	}
	var users []*store.User
	for i := 0; i < n; i++ {
		u, err := db.CreateUser(ctx, store.NewUser{Email: "s" + string(rune('a'+i)) + "@example.org", Name: "Student " + string(rune('A'+i)), Role: store.RoleStudent, PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.AddMember(ctx, co.ID, u.ID, store.RoleStudent); err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	return co, users
}

func record(t *testing.T, db *store.DB, u *store.User, co *store.Cohort, at time.Time, status, kind string) {
	t.Helper()
	id := co.ID
	_, err := db.RecordRuns(context.Background(), []store.CheckRun{{UserID: u.ID, CohortID: &id, StepID: "build-image", CheckID: "app-image-built",
		Status: status, Kind: kind, Summary: status + " " + kind, StartedAt: at}})
	if err != nil {
		t.Fatal(err)
	}
}

// The per-check summary follows every insert: attempts, first pass,
// streaks of failures with the same diagnosis, and a late older run that
// counts without becoming the last one.
func TestCheckProgressFollowsRuns(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	co, users := cohortWith(t, db, 2)
	a, b := users[0], users[1]
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	record(t, db, a, co, t0, "fail", "wrong-folder")
	record(t, db, a, co, t0.Add(time.Minute), "fail", "no-image")
	record(t, db, a, co, t0.Add(2*time.Minute), "fail", "no-image")
	record(t, db, a, co, t0.Add(3*time.Minute), "fail", "no-image")
	record(t, db, b, co, t0, "fail", "no-image")
	record(t, db, b, co, t0.Add(10*time.Minute), "pass", "")
	record(t, db, b, co, t0.Add(5*time.Minute), "fail", "untagged") // arrives late

	sps, err := db.CohortProgress(ctx, co.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(sps) != 2 {
		t.Fatalf("got %d students, want 2", len(sps))
	}
	got := map[int64]store.CheckProgress{}
	for _, sp := range sps {
		if len(sp.Checks) != 1 {
			t.Fatalf("%s: %d checks, want 1", sp.Name, len(sp.Checks))
		}
		got[sp.ID] = sp.Checks[0]
	}
	pa, pb := got[a.ID], got[b.ID]
	if pa.Attempts != 4 || pa.Failures != 4 || pa.FirstPassAt != nil || pa.LastKind != "no-image" || pa.KindStreak != 3 || pa.FailStreak != 4 {
		t.Errorf("student a: %+v", pa)
	}
	if pb.Attempts != 3 || pb.LastStatus != "pass" || pb.FirstPassAt == nil || !pb.FirstPassAt.Equal(t0.Add(10*time.Minute)) || pb.KindStreak != 0 {
		t.Errorf("student b: %+v", pb)
	}
	hands, err := db.RaisedHands(ctx, co.ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(hands) != 1 || hands[0].UserID != a.ID || hands[0].Kind != "no-image" || hands[0].Streak != 3 {
		t.Errorf("raised hands: %+v", hands)
	}
	stats, err := db.CohortCheckStats(ctx, co.ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 1 {
		t.Fatalf("stats: %+v", stats)
	}
	st := stats[0]
	if st.Tried != 2 || st.Passed != 1 || st.EverPassed != 1 || st.KeepFailing != 1 || st.MedianToPass == nil || *st.MedianToPass != 10*time.Minute {
		t.Errorf("stats: %+v", st)
	}
	if len(st.Kinds) != 3 || st.Kinds[0].Kind != "no-image" || st.Kinds[0].Runs != 4 || st.Kinds[0].Students != 2 {
		t.Errorf("kinds: %+v", st.Kinds)
	}
}

// A regrade's student finished twice (a job run again after a restart)
// counts once.
func TestRegradeItemCountsOnce(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	co, users := cohortWith(t, db, 3)
	var r *store.Regrade
	var ids []int64
	err := db.Transact(ctx, func(tx pgx.Tx) error {
		var err error
		r, ids, err = store.CreateRegrade(ctx, tx, co.ID, "build-image", users[0].ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != 3 || len(ids) != 3 {
		t.Fatalf("regrade %+v, ids %v", r, ids)
	}
	for i := 0; i < 2; i++ {
		if _, err := db.FinishRegradeItem(ctx, r.ID, users[0].ID, false); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.FinishRegradeItem(ctx, r.ID, users[1].ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if got.Done != 1 || got.Failed != 1 || got.Finished() || got.FinishedAt != nil {
		t.Errorf("after two: %+v", got)
	}
	got, err = db.FinishRegradeItem(ctx, r.ID, users[2].ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.Done != 2 || !got.Finished() || got.FinishedAt == nil {
		t.Errorf("after three: %+v", got)
	}
}

// The set-based rebuild gives exactly what the trigger kept run by run
// (runs stored in time order, as they are).
func TestRebuildMatchesTrigger(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	co, users := cohortWith(t, db, 3)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	kinds := []string{"no-image", "wrong-folder", ""}
	for i := 0; i < 40; i++ {
		status := "fail"
		if i%7 == 3 {
			status = "pass"
		}
		record(t, db, users[i*5%3], co, t0.Add(time.Duration(i)*time.Minute), status, kinds[i*7%5%3])
	}
	snapshot := func() string {
		var s string
		err := db.Pool.QueryRow(ctx, `SELECT (SELECT string_agg(p::text, ';' ORDER BY user_id, step_id, check_id) FROM check_progress p) || '|' ||
			(SELECT string_agg(k::text, ';' ORDER BY user_id, step_id, check_id, kind) FROM check_failure_kinds k)`).Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := snapshot()
	if err := db.RebuildCheckProgress(ctx); err != nil {
		t.Fatal(err)
	}
	if after := snapshot(); after != before {
		t.Errorf("rebuild differs from the trigger:\ntrigger: %s\nrebuild: %s", before, after)
	}
}
