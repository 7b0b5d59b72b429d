package server

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"

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
	Latest     Runs // the last run of each check that ran
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
// It sorts latest in place, by page.
func pageStates(course *content.Course, latest []store.CheckRun, scores map[string]store.QuizScore, passMark float64) []PageState {
	// Sorted by page, each page's runs are a run of the slice, shared by
	// its PageState: no map per student and page.
	slices.SortFunc(latest, func(a, b store.CheckRun) int { return strings.Compare(a.StepID, b.StepID) })
	pages := progressPages(course)
	out := make([]PageState, 0, len(pages))
	for _, pg := range pages {
		p := pg.page
		lo, _ := slices.BinarySearchFunc(latest, p.ID, func(r store.CheckRun, id string) int { return strings.Compare(r.StepID, id) })
		hi := lo
		for hi < len(latest) && latest[hi].StepID == p.ID {
			hi++
		}
		ps := PageState{PageID: p.ID, Title: p.Title, URL: pg.url, Checks: p.Checks, QuizID: p.QuizID,
			Latest: Runs(latest[lo:hi:hi]), PassMark: passMark, ChecksDone: true, QuizDone: true}
		for _, id := range p.Checks {
			r, ok := ps.Latest.Get(id)
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

// Runs are the last runs of a page's checks, one per check.
type Runs []store.CheckRun

// Get returns the last run of a check (a page has a few: a scan is
// cheaper than a map).
func (rs Runs) Get(checkID string) (store.CheckRun, bool) {
	for _, r := range rs {
		if r.CheckID == checkID {
			return r, true
		}
	}
	return store.CheckRun{}, false
}

// progressPage is a page progress is shown for, with its address.
type progressPage struct {
	page *content.Page
	url  string
}

// lastPages caches progressPages for the loaded course: the dashboard
// derives a state per student and page, and the list only changes when
// the course is reloaded (a new *content.Course).
var lastPages atomic.Pointer[struct {
	course *content.Course
	pages  []progressPage
}]

// progressPages lists the pages progress is shown for, in course order:
// the steps (their first variant: both share ids), the topics, the bonus.
func progressPages(course *content.Course) []progressPage {
	if c := lastPages.Load(); c != nil && c.course == course {
		return c.pages
	}
	var pages []progressPage
	add := func(p *content.Page) {
		pages = append(pages, progressPage{page: p, url: content.PageURL(p.Kind, p.Variant, p.ID)})
	}
	for _, st := range course.Steps {
		if p := st.Pages[course.Variants[0].ID]; p != nil {
			add(p)
		}
	}
	for _, p := range course.Topics {
		add(p)
	}
	for _, p := range course.Bonus {
		add(p)
	}
	lastPages.Store(&struct {
		course *content.Course
		pages  []progressPage
	}{course, pages})
	return pages
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
