package web

import (
	"bytes"
	"fmt"
	"io"
	"time"
)

// ProgressPage is a student's progress: their own (GET /progress) or, for
// the cohort's instructors, one student's detail page.
type ProgressPage struct {
	Page
	Student    string // the student's name on the instructors' page; empty on one's own
	Email      string
	CohortID   int64
	CohortName string
	BackURL    string
	PassMark   float64
	Done       int
	Total      int
	Completion float64
	Pages      []PageProgress
	Attempts   []QuizAttemptRow // every quiz attempt, newest first
	RunCount   int              // check runs shown in the history
}

// PageProgress is one step, topic or bonus page with its checks' states,
// its quiz scores and the history of its check runs.
type PageProgress struct {
	ID           string
	Title        string
	URL          string
	Label        string // "Step 3", "Topic", "Bonus"
	State        string // done, failing, started or empty (not started)
	StateLabel   string
	Checks       []CheckState
	HasQuiz      bool
	QuizAttempts int
	QuizBest     float64
	QuizLatest   float64
	QuizPassed   bool
	Runs         []RunBatch // newest first
}

// CheckState is the state of one check from its last run.
type CheckState struct {
	ID      string
	Title   string
	Status  string // pass, fail, warn, error, or empty when never checked
	Label   string
	Summary string
	At      time.Time
}

// RunBatch is one press of "Check my work" (or one regrade) and what each
// check reported.
type RunBatch struct {
	At      time.Time
	Source  string
	Results []ResultView
}

// QuizAttemptRow is one scored quiz attempt.
type QuizAttemptRow struct {
	QuizID  string
	Title   string
	Score   float64
	Correct int
	Total   int
	At      time.Time
}

// DashboardPage is a cohort's live matrix: students × pages.
type DashboardPage struct {
	Page
	CohortID    int64
	CohortName  string
	Columns     []DashColumn
	Rows        []DashRow
	Filter      DashFilter
	Shown       int // rows after filtering, all pages of the list
	Students    int // in the cohort
	NeedHelp    int
	AvgComplete float64
	PageNumber  int
	PageCount   int
	PrevURL     string
	NextURL     string
	SortLinks   map[string]string // column -> URL that sorts by it
	Steps       []Link            // steps with checks, for the regrade form
	Regrades    []RegradeView
	Hands       []RaisedHandView // the first few raised hands
	HandCount   int
	Hardest     []HardCheck // where the cohort is stuck, at a glance
	EventsURL   string
	RowURL      string // the row fragment URL without the user id
	Query       string // the current query string, for the live row fetches
}

// DashColumn is one page of the course in the matrix.
type DashColumn struct {
	ID    string
	Title string
	Short string // a narrow header, e.g. "3" or "T1"
}

// DashFilter is the matrix's sort and filter, from the query string.
type DashFilter struct {
	Q        string
	Sort     string // name, completion, activity
	Dir      string // asc, desc
	Help     bool   // only students who need help
	Progress string // not-started, in-progress, finished, or empty for all
	Active   string // recent (in the last hour), idle (started, quiet for an hour), or empty
}

// DashRow is one student in the matrix.
type DashRow struct {
	UserID     int64
	Name       string
	Email      string
	DetailURL  string
	Done       int
	Total      int
	Completion float64
	LastActive time.Time
	NeedsHelp  bool
	Cells      []DashCell
}

// DashCell is one student's state on one page.
type DashCell struct {
	PageID string
	State  string // done, failing, started or empty
	Symbol string // shown with the colour, so colour is never the only signal
	Label  string // the state in words
	Tip    string // the last run's summary
	TipID  string
}

// RegradeView is a regrade's progress.
type RegradeView struct {
	ID        int64
	StepTitle string
	Total     int
	Done      int
	Failed    int
	Cancelled int
	Finished  bool
	CreatedAt time.Time
	CohortID  int64
}

// RaisedHandView is a student stuck on one check with one diagnosis.
type RaisedHandView struct {
	Name       string
	DetailURL  string
	StepTitle  string
	CheckTitle string
	Kind       string
	Streak     int
	Summary    string
	LastAt     time.Time
}

// StuckPage shows where a cohort is stuck, per step and check.
type StuckPage struct {
	Page
	CohortID   int64
	CohortName string
	Streak     int
	Steps      []StuckStep
	Hands      []RaisedHandView
	Hardest    []HardCheck
}

// HardCheck is one of the checks the most students keep failing.
type HardCheck struct {
	StepID      string
	StepTitle   string
	CheckTitle  string
	KeepFailing int
	NotPassing  int // tried, last run not passed
	TopKind     string
	TopKindRuns int
}

// StuckStep is one page of the course with its checks' figures.
type StuckStep struct {
	ID     string
	Title  string
	Checks []StuckCheck
}

// StuckCheck is how the cohort fares on one check.
type StuckCheck struct {
	ID          string
	Title       string
	Tried       int
	Passed      int
	EverPassed  int
	KeepFailing int
	Median      string // time from first run to first pass, "—" when nobody passed
	Kinds       []KindView
}

// KindView is one failure diagnosis and how often it came back.
type KindView struct {
	Kind     string
	Runs     int
	Students int
}

// AdminCohortsPage is the bootcamp overview: every cohort with its
// completion.
type AdminCohortsPage struct {
	Page
	Cohorts []CohortOverview
}

// CohortOverview is one cohort in the overview.
type CohortOverview struct {
	ID         int64
	Name       string
	Students   int
	Completion float64 // average over its students
	Finished   int     // students who completed every page
	ActiveDay  int     // students active in the last 24 hours
	NeedHelp   int
}

// RenderFragment executes one named template of a page without the layout
// (a live row of the matrix), into a buffer first.
func (r *Renderer) RenderFragment(w io.Writer, page, name string, data any) error {
	t, ok := r.pages[page]
	if !ok {
		return fmt.Errorf("web: no template %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("web: render %s/%s: %w", page, name, err)
	}
	_, err := buf.WriteTo(w)
	return err
}
