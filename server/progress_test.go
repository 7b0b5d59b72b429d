package server

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coursekit/workshop/content"
	"github.com/coursekit/workshop/grader"
	"github.com/coursekit/workshop/store"
)

// A page is complete only when every check last passed and the quiz's best
// score meets the cohort's pass mark.
func TestProgressDerivation(t *testing.T) {
	course, err := content.Load(content.DefaultFS(), content.Options{ServerURL: "http://x", KnownChecks: grader.Known})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	check := func(id, status string) store.CheckProgress {
		return store.CheckProgress{StepID: "build-image", CheckID: id, LastStatus: status, LastAt: t0}
	}
	quiz := func(best float64) map[string]store.QuizScore {
		return map[string]store.QuizScore{"build-image": {QuizID: "build-image", Best: best, Latest: best, Attempts: 1, LastAt: t0}}
	}
	tests := []struct {
		name   string
		checks []store.CheckProgress
		quiz   map[string]store.QuizScore
		want   string
	}{
		{"nothing yet", nil, nil, ""},
		{"checks pass, no quiz", []store.CheckProgress{check("docker-reachable", "pass"), check("app-image-built", "pass")}, nil, "started"},
		{"quiz under the pass mark", []store.CheckProgress{check("docker-reachable", "pass"), check("app-image-built", "pass")}, quiz(0.6), "started"},
		{"all passed", []store.CheckProgress{check("docker-reachable", "pass"), check("app-image-built", "pass")}, quiz(0.9), "done"},
		// 7 of 10 stored as real reads back as 0.69999999: it meets 70%.
		{"quiz exactly at the pass mark", []store.CheckProgress{check("docker-reachable", "pass"), check("app-image-built", "pass")}, quiz(float64(float32(0.7))), "done"},
		{"last run failed", []store.CheckProgress{check("docker-reachable", "pass"), check("app-image-built", "fail")}, quiz(1), "failing"},
		{"one check never run", []store.CheckProgress{check("docker-reachable", "pass")}, quiz(1), "started"},
		{"could not check", []store.CheckProgress{check("docker-reachable", "pass"), check("app-image-built", "error")}, quiz(1), "started"},
	}
	s := &Server{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum := s.summarize(course, store.StudentProgress{Checks: tt.checks, Quizzes: tt.quiz}, 0.7)
			var got string
			for _, st := range sum.States {
				if st.PageID == "build-image" {
					got = st.Mark()
				}
			}
			if got != tt.want {
				t.Errorf("mark %q, want %q", got, tt.want)
			}
			wantDone := 0
			if tt.want == "done" {
				wantDone = 1
			}
			if sum.Done != wantDone || sum.Total < 10 {
				t.Errorf("done %d of %d, want %d of at least 10", sum.Done, sum.Total, wantDone)
			}
		})
	}
}

func TestSafeCell(t *testing.T) {
	tests := map[string]string{
		"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")",
		"+1":                       "'+1",
		"-2+3":                     "'-2+3",
		"@SUM(A1)":                 "'@SUM(A1)",
		"\tx":                      "'\tx",
		"\rx":                      "'\rx",
		"Ada Lovelace":             "Ada Lovelace",
		"":                         "",
		"a=b":                      "a=b",
	}
	for in, want := range tests {
		if got := safeCell(in); got != want {
			t.Errorf("safeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// seedProgress stores results for the world's student A: build-image
// passed with its quiz, publish-port failing three times in a row with the
// same diagnosis.
func seedProgress(t *testing.T, h *harness, w *world) {
	t.Helper()
	ctx := context.Background()
	id := w.CohortA.ID
	t0 := time.Now().Add(-time.Hour)
	runs := func(at time.Time, step string, results ...store.CheckRun) {
		for i := range results {
			results[i].UserID, results[i].CohortID, results[i].StepID, results[i].StartedAt = w.StudentA.ID, &id, step, at
		}
		if _, err := h.DB.RecordRuns(ctx, results); err != nil {
			t.Fatal(err)
		}
	}
	runs(t0, "build-image",
		store.CheckRun{CheckID: "docker-reachable", Status: "pass", Title: "Docker answers", Summary: "Docker 28 answers."},
		store.CheckRun{CheckID: "app-image-built", Status: "pass", Title: "Image built", Summary: "Found the image.", Evidence: []string{"image sha256:abc labelled workshop.lab=django-app"}})
	for i := 0; i < 3; i++ {
		runs(t0.Add(time.Duration(i+1)*time.Minute), "publish-port",
			store.CheckRun{CheckID: "port-8000-published", Status: "fail", Kind: "bound-to-loopback", Title: "Port 8000 published", Summary: "Published on 127.0.0.1 only."})
	}
	if _, err := h.DB.RecordAttempt(ctx, store.QuizAttempt{UserID: w.StudentA.ID, CohortID: &id, QuizID: "build-image", Score: 0.8, Correct: 4, Total: 5}); err != nil {
		t.Fatal(err)
	}
}

func TestProgressPagesAndDashboard(t *testing.T) {
	h := newHarness(t)
	w := h.world()
	seedProgress(t, h, w)
	// A second student with a name a spreadsheet would run as a formula.
	evil := h.createUser(store.RoleStudent)
	if _, err := h.DB.UpdateProfile(context.Background(), evil.ID, "=HYPERLINK(\"http://evil\",\"x\")", "guided"); err != nil {
		t.Fatal(err)
	}
	h.addStudent(w.CohortA, evil)

	page := readBody(h.get(h.sessionClient(w.StudentA), "/progress"))
	for _, want := range []string{"1 of ", "Build the image", "Published on 127.0.0.1 only.", "labelled workshop.lab=django-app", "80%"} {
		if !strings.Contains(page, want) {
			t.Errorf("/progress lacks %q", want)
		}
	}

	inst := h.sessionClient(w.InstructorA)
	base := fmt.Sprintf("/cohorts/%d", w.CohortA.ID)
	dash := readBody(h.get(inst, base+"/dashboard"))
	for _, want := range []string{fmt.Sprintf(`id="student-%d"`, w.StudentA.ID), "state-done", "state-failing", "needs help", "bound-to-loopback", `role="tooltip"`, "/static/dashboard."} {
		if !strings.Contains(dash, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	help := readBody(h.get(inst, base+"/dashboard?help=1"))
	if !strings.Contains(help, fmt.Sprintf(`id="student-%d"`, w.StudentA.ID)) || strings.Contains(help, fmt.Sprintf(`id="student-%d"`, evil.ID)) {
		t.Error("the needs-help filter shows the wrong students")
	}
	sorted := readBody(h.get(inst, base+"/dashboard?sort=completion&dir=asc"))
	if a, e := strings.Index(sorted, fmt.Sprintf(`id="student-%d"`, w.StudentA.ID)), strings.Index(sorted, fmt.Sprintf(`id="student-%d"`, evil.ID)); e < 0 || a < e {
		t.Error("sorting by completion, ascending, does not put the student with nothing first")
	}
	if q := readBody(h.get(inst, base+"/dashboard?q=nobody-has-this-name")); !strings.Contains(q, "No students match") {
		t.Error("the name filter does not filter")
	}
	rowA, rowEvil := fmt.Sprintf(`id="student-%d"`, w.StudentA.ID), fmt.Sprintf(`id="student-%d"`, evil.ID)
	for query, want := range map[string][2]bool{
		"progress=not-started": {false, true},
		"progress=in-progress": {true, false},
		"progress=finished":    {false, false},
		"active=recent":        {true, false},
		"active=idle":          {false, false},
	} {
		got := readBody(h.get(inst, base+"/dashboard?"+query))
		if strings.Contains(got, rowA) != want[0] || strings.Contains(got, rowEvil) != want[1] {
			t.Errorf("?%s: student A shown %v, the other %v; want %v", query, strings.Contains(got, rowA), strings.Contains(got, rowEvil), want)
		}
	}

	detail := readBody(h.get(inst, fmt.Sprintf("%s/students/%d", base, w.StudentA.ID)))
	if !strings.Contains(detail, "labelled workshop.lab=django-app") || !strings.Contains(detail, "4 of 5") {
		t.Error("the student's detail page lacks the evidence or the quiz attempt")
	}
	if resp := h.get(inst, fmt.Sprintf("%s/students/%d", base, w.StudentB.ID)); resp.StatusCode != 404 {
		t.Errorf("a student of another cohort: %d, want 404", resp.StatusCode)
	}

	stuck := readBody(h.get(inst, base+"/stuck"))
	for _, want := range []string{"Raised hands", "3 failures in a row", "bound-to-loopback", "3 runs, 1 student"} {
		if !strings.Contains(stuck, want) {
			t.Errorf("the stuck page lacks %q", want)
		}
	}

	resp := h.get(inst, base+"/export.csv")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("CSV content type %q", ct)
	}
	recs, err := csv.NewReader(strings.NewReader(readBody(resp))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("CSV has %d records, want a header and 2 students", len(recs))
	}
	header := strings.Join(recs[0], ",")
	if !strings.Contains(header, "build-image,build-image quiz best %") || !strings.HasSuffix(header, "quizzes_passed,quizzes_total") {
		t.Errorf("CSV header: %s", header)
	}
	var evilRow, aRow []string
	for _, r := range recs[1:] {
		switch r[1] {
		case evil.Email:
			evilRow = r
		case w.StudentA.Email:
			aRow = r
		}
	}
	if evilRow == nil || !strings.HasPrefix(evilRow[0], "'=HYPERLINK") {
		t.Errorf("the formula is not escaped: %q", evilRow)
	}
	if aRow == nil || !strings.Contains(strings.Join(aRow, ","), "done,80") {
		t.Errorf("student A's row: %q", aRow)
	}

	var export struct {
		Students []exportRow `json:"students"`
	}
	if err := json.Unmarshal([]byte(readBody(h.get(inst, base+"/export.json"))), &export); err != nil {
		t.Fatal(err)
	}
	if len(export.Students) != 2 || export.Students[0].PagesTotal != len(recs[0][4:len(recs[0])-7])-countQuizColumns(recs[0]) {
		t.Errorf("JSON export: %+v", export.Students)
	}

	overview := readBody(h.get(h.sessionClient(w.Admin), "/admin/cohorts"))
	if !strings.Contains(overview, "Cohort A") || !strings.Contains(overview, "Cohort B") {
		t.Error("the admins' overview lacks a cohort")
	}
}

func countQuizColumns(header []string) int {
	n := 0
	for _, h := range header {
		if strings.HasSuffix(h, " quiz best %") {
			n++
		}
	}
	return n
}

// A row or a student page asked for with a malformed or zero student id is
// "no such member", never every student of the cohort.
func TestDashboardRowNeedsAStudent(t *testing.T) {
	h := newHarness(t)
	w := h.world()
	c := h.sessionClient(w.InstructorA)
	for _, p := range []string{"/dashboard/row/xyz", "/dashboard/row/0", "/dashboard/row/-3", "/students/abc", "/students/0"} {
		resp := h.get(c, fmt.Sprintf("/cohorts/%d%s", w.CohortA.ID, p))
		if text := readBody(resp); resp.StatusCode != http.StatusNotFound || strings.Contains(text, fmt.Sprintf("student-%d", w.StudentA.ID)) {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

// The home page shows a signed-in student where to go on: their marks and
// the first part not done yet, in their own variant; an anonymous reader
// sees neither.
func TestHomeShowsWhereToContinue(t *testing.T) {
	h := newHarness(t)
	w := h.world()
	seedProgress(t, h, w)
	if _, err := h.DB.UpdateProfile(context.Background(), w.StudentA.ID, w.StudentA.Name, "concepts"); err != nil {
		t.Fatal(err)
	}
	page := readBody(h.get(h.sessionClient(w.StudentA), "/"))
	if !strings.Contains(page, `<a class="button" href="/guide/concepts/clone">Continue: Cloning a repository`) {
		t.Errorf("no Continue link to the first part not done, in the student's variant:\n%.3000s", page)
	}
	if !strings.Contains(page, `href="/guide/concepts/build-image"><span class="mark status-pass"`) ||
		!strings.Contains(page, `href="/guide/concepts/publish-port"><span class="mark status-fail"`) {
		t.Errorf("the steps do not carry the student's marks")
	}
	anon := readBody(h.get(h.client(), "/"))
	if strings.Contains(anon, "Continue: ") || strings.Contains(anon, `class="mark `) {
		t.Error("an anonymous reader sees a Continue link or marks")
	}
	// Someone signed in who has not started: no Continue yet.
	if fresh := readBody(h.get(h.sessionClient(w.StudentB), "/")); strings.Contains(fresh, "Continue: ") {
		t.Error("a student who has not started is told to continue")
	}
}
