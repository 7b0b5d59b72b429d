package main

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemoSeedsOnce: workshop demo fills a cohort with students and their
// results and prints the instructor's password; a second run leaves the
// cohort alone and only gives the instructor a new password.
func TestDemoSeedsOnce(t *testing.T) {
	t.Parallel()
	dbURL := freshDatabase(t)
	env := []string{"WORKSHOP_DATA=" + newDataDir(t), "DATABASE_URL=" + dbURL}
	code, out := runProc(t, 60*time.Second, env, "demo", "--students", "12")
	if code != 0 {
		t.Fatalf("demo: exit %d:\n%s", code, out)
	}
	password := regexp.MustCompile(`as demo-instructor@example.org with the password (\S+)`).FindStringSubmatch(out)
	if password == nil || !strings.Contains(out, "12 students") || !strings.Contains(out, "/cohorts/1/dashboard") {
		t.Fatalf("demo output:\n%s", out)
	}
	if n := sqlInt(t, dbURL, `SELECT count(*) FROM cohort_members WHERE role = 'student'`); n != 12 {
		t.Errorf("%d students, want 12", n)
	}
	if n := sqlInt(t, dbURL, `SELECT count(DISTINCT user_id) FROM check_runs`); n < 6 {
		t.Errorf("only %d students have check runs", n)
	}
	if n := sqlInt(t, dbURL, `SELECT count(*) FROM check_runs WHERE status = 'fail' AND kind <> ''`); n == 0 {
		t.Error("no near misses in the demo runs")
	}
	if n := sqlInt(t, dbURL, `SELECT count(*) FROM check_progress`); n == 0 {
		t.Error("the per-check summaries are empty")
	}
	code, out2 := runProc(t, 60*time.Second, env, "demo")
	if code != 0 || !strings.Contains(out2, "exists already") || strings.Contains(out2, password[1]) {
		t.Errorf("second demo: exit %d:\n%s", code, out2)
	}
	if n := sqlInt(t, dbURL, `SELECT count(*) FROM cohorts`); n != 1 {
		t.Errorf("%d cohorts after two runs, want 1", n)
	}
}
