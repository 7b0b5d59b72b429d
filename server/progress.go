package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/content"
	"github.com/coursekit/workshop/grader"
	"github.com/coursekit/workshop/quiz"
	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/web"
)

// raiseHandStreak is how many failed runs in a row of one check with the
// same diagnosis flag a student as needing help.
const raiseHandStreak = 3

// Completion counts the pages that can be completed (they have checks or
// a quiz) and how many of them are.
func Completion(states []PageState) (done, total int) {
	for _, st := range states {
		if len(st.Checks) == 0 && st.QuizID == "" {
			continue
		}
		total++
		if st.Done() {
			done++
		}
	}
	return done, total
}

func ratio(done, total int) float64 {
	if total == 0 {
		return 0
	}
	return float64(done) / float64(total)
}

// cohortPassMark is a cohort's quiz pass mark, or the default.
func cohortPassMark(co *store.Cohort) float64 {
	if co != nil && co.PassMark > 0 {
		return co.PassMark
	}
	return quiz.DefaultPassMark
}

// studentSummary is one student's derived progress in a cohort.
type studentSummary struct {
	store.StudentProgress
	States     []PageState
	Done       int
	Total      int
	Completion float64
	NeedsHelp  bool
}

// summarize derives a student's page states from the per-check summaries
// with pageStates, the same derivation as the student's own pages.
func (s *Server) summarize(course *content.Course, sp store.StudentProgress, passMark float64) studentSummary {
	latest := make([]store.CheckRun, len(sp.Checks))
	sum := studentSummary{StudentProgress: sp}
	for i, p := range sp.Checks {
		latest[i] = p.LastRun()
		if p.LastStatus != "pass" && p.KindStreak >= raiseHandStreak {
			sum.NeedsHelp = true
		}
	}
	sum.States = pageStates(course, latest, sp.Quizzes, passMark)
	sum.Done, sum.Total = Completion(sum.States)
	sum.Completion = ratio(sum.Done, sum.Total)
	return sum
}

// progress shows the signed-in student their progress on every page.
func (s *Server) progress(c echo.Context) error {
	u := s.currentUser(c)
	p := web.ProgressPage{Page: s.page(c, "My progress"), PassMark: s.passMark(c)}
	p.Nav = "progress"
	if co := s.studentCohort(c); co != nil {
		p.CohortID, p.CohortName = co.ID, co.Name
	}
	if err := s.fillProgress(c.Request().Context(), &p, u.ID); err != nil {
		return err
	}
	return s.render(c, "progress", p)
}

// cohortStudent shows one student's every run, evidence and quiz attempt
// to the cohort's instructors.
func (s *Server) cohortStudent(c echo.Context) error {
	co, err := s.cohortParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	uid, err := memberParam(c)
	if err != nil {
		return err
	}
	ok, err := s.db.HasCohortRole(ctx, co.ID, uid, store.RoleStudent)
	if err != nil {
		return err
	}
	if !ok {
		return Errorf(http.StatusNotFound, "There is no such student in this cohort.")
	}
	u, err := s.db.UserByID(ctx, uid)
	if err != nil {
		return err
	}
	name := u.Name
	if name == "" {
		name = u.Email
	}
	p := web.ProgressPage{Page: s.page(c, name+" · "+co.Name), Student: name, Email: u.Email, CohortID: co.ID, CohortName: co.Name,
		BackURL: fmt.Sprintf("/cohorts/%d/dashboard", co.ID), PassMark: cohortPassMark(co)}
	p.Nav = "cohorts"
	if err := s.fillProgress(ctx, &p, uid); err != nil {
		return err
	}
	return s.render(c, "progress", p)
}

// fillProgress derives a student's states and adds the history of every
// check run and quiz attempt.
func (s *Server) fillProgress(ctx context.Context, p *web.ProgressPage, userID int64) error {
	states, err := s.studentStates(ctx, userID, p.PassMark)
	if err != nil {
		return err
	}
	runs, err := s.db.UserRuns(ctx, userID, 2000)
	if err != nil {
		return err
	}
	attempts, err := s.db.QuizAttempts(ctx, userID, "", 500)
	if err != nil {
		return err
	}
	course := s.course()
	p.Done, p.Total = Completion(states)
	p.Completion = ratio(p.Done, p.Total)
	p.RunCount = len(runs)
	byPage := map[string][]web.RunBatch{}
	lastBatch := map[string]int64{}
	for _, r := range runs {
		batches := byPage[r.StepID]
		if len(batches) == 0 || lastBatch[r.StepID] != r.BatchID {
			batches = append(batches, web.RunBatch{At: r.StartedAt, Source: r.Source})
			lastBatch[r.StepID] = r.BatchID
		}
		b := &batches[len(batches)-1]
		b.Results = append(b.Results, resultView(r.CheckID, r.Title, r.Status, r.Summary, r.Evidence, r.Hint, r.Kind, r.StartedAt, r.Duration))
		byPage[r.StepID] = batches
	}
	for _, batches := range byPage {
		for i := range batches {
			reverse(batches[i].Results) // in the order the checks ran
		}
	}
	for _, st := range states {
		pp := web.PageProgress{ID: st.PageID, Title: st.Title, URL: st.URL, Label: pageLabel(course, st.PageID), State: st.Mark(),
			StateLabel: stateLabel(st.Mark()), Runs: byPage[st.PageID]}
		for _, id := range st.Checks {
			cs := web.CheckState{ID: id, Title: checkTitle(id), Label: "Never checked"}
			if r, ok := st.Latest.Get(id); ok {
				rv := resultView(r.CheckID, r.Title, r.Status, r.Summary, nil, "", r.Kind, r.StartedAt, 0)
				cs.Status, cs.Label, cs.Summary, cs.At = r.Status, rv.StatusLabel(), r.Summary, r.StartedAt
			}
			pp.Checks = append(pp.Checks, cs)
		}
		if st.QuizID != "" {
			pp.HasQuiz = true
			if st.Quiz != nil {
				pp.QuizAttempts, pp.QuizBest, pp.QuizLatest, pp.QuizPassed = st.Quiz.Attempts, st.Quiz.Best, st.Quiz.Latest, st.QuizDone
			}
		}
		p.Pages = append(p.Pages, pp)
	}
	for _, a := range attempts {
		title := a.QuizID
		if q, ok := s.quizFor(a.QuizID); ok && q.Title != "" {
			title = q.Title
		}
		p.Attempts = append(p.Attempts, web.QuizAttemptRow{QuizID: a.QuizID, Title: title, Score: a.Score, Correct: a.Correct, Total: a.Total, At: a.CreatedAt})
	}
	return nil
}

// checkTitle is a check's title for people.
func checkTitle(id string) string {
	if chk, ok := grader.Lookup(id); ok {
		return chk.Title()
	}
	return id
}

// pageLabel says where a page sits in the course: "Step 3", "Topic" or
// "Bonus".
func pageLabel(course *content.Course, id string) string {
	for _, st := range course.Steps {
		if st.ID == id {
			return "Step " + strconv.Itoa(st.Number)
		}
	}
	for _, t := range course.Topics {
		if t.ID == id {
			return "Topic"
		}
	}
	return "Bonus"
}

// stateLabel puts a page's mark in words.
func stateLabel(mark string) string {
	switch mark {
	case "done":
		return "Complete"
	case "failing":
		return "Failing"
	case "started":
		return "Started"
	}
	return "Not started"
}

// stateSymbol goes with the colour of a state, so colour is never the
// only signal.
func stateSymbol(mark string) string {
	switch mark {
	case "done":
		return "✓"
	case "failing":
		return "✗"
	case "started":
		return "…"
	}
	return "·"
}
