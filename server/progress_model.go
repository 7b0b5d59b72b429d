package server

import (
	"context"

	"github.com/coursekit/workshop/content"
	"github.com/coursekit/workshop/store"
)

// PageState is a student's state on one page of the course, derived from
// stored results every time (never a stored flag that could drift).
type PageState struct {
	PageID     string
	Title      string
	URL        string
	Checks     []string
	Latest     map[string]store.CheckRun // check id -> its last run
	QuizID     string
	Quiz       *store.QuizScore
	PassMark   float64
	ChecksDone bool // every check's last run passed (true when it has none)
	QuizDone   bool // best score reaches the pass mark (true when it has none)
	Failing    bool // some check's last run failed
	Started    bool
}

// Done reports whether the page is complete.
func (p PageState) Done() bool {
	return p.ChecksDone && p.QuizDone && (len(p.Checks) > 0 || p.QuizID != "")
}

// Mark is the sidebar mark of the page.
func (p PageState) Mark() string {
	switch {
	case p.Done():
		return "done"
	case p.Failing:
		return "failing"
	case p.Started:
		return "started"
	}
	return ""
}

// pageStates derives the state of every page of the course from a
// student's latest check runs and quiz scores. A step's checks and quiz
// are the same in both variants, so the first variant's page describes it.
func pageStates(course *content.Course, latest []store.CheckRun, scores map[string]store.QuizScore, passMark float64) []PageState {
	byCheck := map[string]map[string]store.CheckRun{}
	for _, r := range latest {
		if byCheck[r.StepID] == nil {
			byCheck[r.StepID] = map[string]store.CheckRun{}
		}
		byCheck[r.StepID][r.CheckID] = r
	}
	var pages []*content.Page
	for _, st := range course.Steps {
		if p := st.Pages[course.Variants[0].ID]; p != nil {
			pages = append(pages, p)
		}
	}
	pages = append(pages, course.Topics...)
	pages = append(pages, course.Bonus...)
	out := make([]PageState, 0, len(pages))
	for _, p := range pages {
		ps := PageState{PageID: p.ID, Title: p.Title, URL: content.PageURL(p.Kind, p.Variant, p.ID), Checks: p.Checks, QuizID: p.QuizID,
			Latest: byCheck[p.ID], PassMark: passMark, ChecksDone: true, QuizDone: true}
		for _, id := range p.Checks {
			r, ok := ps.Latest[id]
			if !ok {
				ps.ChecksDone = false
				continue
			}
			ps.Started = true
			if r.Status != "pass" {
				ps.ChecksDone = false
			}
			if r.Status == "fail" {
				ps.Failing = true
			}
		}
		if p.QuizID != "" {
			if q, ok := scores[p.QuizID]; ok {
				q := q
				ps.Quiz = &q
				ps.Started = true
				// Scores are stored as real (float32): 0.7 reads back as
				// 0.69999999, which must still meet a pass mark of 0.7.
				ps.QuizDone = q.Best+1e-6 >= passMark
			} else {
				ps.QuizDone = false
			}
		}
		out = append(out, ps)
	}
	return out
}

// studentStates loads what pageStates needs for one student.
func (s *Server) studentStates(ctx context.Context, userID int64, passMark float64) ([]PageState, error) {
	latest, err := s.db.LatestRuns(ctx, userID)
	if err != nil {
		return nil, err
	}
	scores, err := s.db.QuizScores(ctx, userID)
	if err != nil {
		return nil, err
	}
	return pageStates(s.course(), latest, scores, passMark), nil
}
