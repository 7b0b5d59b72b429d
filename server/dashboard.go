package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/errgroup"

	"github.com/coursekit/workshop/content"
	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/web"
)

// dashboardPageSize is how many students one page of the matrix shows.
const dashboardPageSize = 100

// dashFilter reads the matrix's sort and filter from the query string.
func dashFilter(c echo.Context) web.DashFilter {
	f := web.DashFilter{Q: strings.TrimSpace(c.QueryParam("q")), Sort: c.QueryParam("sort"), Dir: c.QueryParam("dir"), Help: c.QueryParam("help") != ""}
	if len(f.Q) > 100 {
		f.Q = f.Q[:100]
	}
	switch f.Sort {
	case "completion", "activity":
	default:
		f.Sort = "name"
	}
	switch v := c.QueryParam("progress"); v {
	case "not-started", "in-progress", "finished":
		f.Progress = v
	}
	switch v := c.QueryParam("active"); v {
	case "recent", "idle":
		f.Active = v
	}
	if f.Dir != "asc" && f.Dir != "desc" {
		f.Dir = "asc"
		if f.Sort != "name" {
			f.Dir = "desc"
		}
	}
	return f
}

// query turns a filter back into a query string (page > 1 adds it).
func dashQuery(f web.DashFilter, page int) string {
	v := url.Values{}
	if f.Q != "" {
		v.Set("q", f.Q)
	}
	if f.Sort != "name" {
		v.Set("sort", f.Sort)
	}
	if f.Dir != "asc" || f.Sort != "name" {
		v.Set("dir", f.Dir)
	}
	if f.Help {
		v.Set("help", "1")
	}
	if f.Progress != "" {
		v.Set("progress", f.Progress)
	}
	if f.Active != "" {
		v.Set("active", f.Active)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return v.Encode()
}

// idleAfter is how long without a check or a quiz makes a student idle.
const idleAfter = time.Hour

// filterSort applies the matrix's filter and sort to the summaries.
func filterSort(all []studentSummary, f web.DashFilter, now time.Time) []studentSummary {
	q := strings.ToLower(f.Q)
	out := make([]studentSummary, 0, len(all))
	for _, st := range all {
		if q != "" && !strings.Contains(strings.ToLower(st.Name), q) && !strings.Contains(strings.ToLower(st.Email), q) {
			continue
		}
		if f.Help && !st.NeedsHelp {
			continue
		}
		started, finished := !st.LastActive.IsZero(), st.Total > 0 && st.Done == st.Total
		switch f.Progress {
		case "not-started":
			if started {
				continue
			}
		case "in-progress":
			if !started || finished {
				continue
			}
		case "finished":
			if !finished {
				continue
			}
		}
		recent := activeSince(st, now.Add(-idleAfter))
		if f.Active == "recent" && !recent || f.Active == "idle" && (recent || !started) {
			continue
		}
		out = append(out, st)
	}
	less := func(a, b studentSummary) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	}
	switch f.Sort {
	case "completion":
		less = func(a, b studentSummary) int { return cmpFloat(a.Completion, b.Completion) }
	case "activity":
		less = func(a, b studentSummary) int { return a.LastActive.Compare(b.LastActive) }
	}
	sort.SliceStable(out, func(i, j int) bool {
		if c := less(out[i], out[j]); c != 0 {
			if f.Dir == "desc" {
				return c > 0
			}
			return c < 0
		}
		// Ties stay in name order, whatever the direction.
		if c := strings.Compare(strings.ToLower(out[i].Name), strings.ToLower(out[j].Name)); c != 0 {
			return c < 0
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// matrixColumns are the course's pages that can be completed, in order.
func matrixColumns(course *content.Course, states []PageState) []web.DashColumn {
	var cols []web.DashColumn
	topic := 0
	for _, st := range states {
		if len(st.Checks) == 0 && st.QuizID == "" {
			continue
		}
		short := ""
		label := pageLabel(course, st.PageID)
		switch {
		case strings.HasPrefix(label, "Step "):
			short = strings.TrimPrefix(label, "Step ")
		case label == "Topic":
			topic++
			short = "T" + strconv.Itoa(topic)
		default:
			short = "B"
		}
		cols = append(cols, web.DashColumn{ID: st.PageID, Title: st.Title, Short: short})
	}
	return cols
}

// dashRow turns a student's summary into a row of the matrix.
func dashRow(cohortID int64, st studentSummary) web.DashRow {
	name := st.Name
	if name == "" {
		name = st.Email
	}
	row := web.DashRow{UserID: st.ID, Name: name, Email: st.Email, DetailURL: fmt.Sprintf("/cohorts/%d/students/%d", cohortID, st.ID),
		Done: st.Done, Total: st.Total, Completion: st.Completion, LastActive: st.LastActive, NeedsHelp: st.NeedsHelp}
	for _, ps := range st.States {
		if len(ps.Checks) == 0 && ps.QuizID == "" {
			continue
		}
		mark := ps.Mark()
		cell := web.DashCell{PageID: ps.PageID, State: mark, Symbol: stateSymbol(mark), Label: stateLabel(mark),
			TipID: fmt.Sprintf("tip-%d-%s", st.ID, ps.PageID)}
		cell.Tip = cellTip(ps)
		row.Cells = append(row.Cells, cell)
	}
	return row
}

// cellTip summarises a page for the matrix's tooltip: the last run of
// each check, then the quiz.
func cellTip(ps PageState) string {
	if !ps.Started {
		return ps.Title + ": not started."
	}
	var parts []string
	var last store.CheckRun
	for _, id := range ps.Checks {
		r, ok := ps.Latest.Get(id)
		if !ok {
			parts = append(parts, checkTitle(id)+": never checked")
			continue
		}
		if r.StartedAt.After(last.StartedAt) {
			last = r
		}
		s := checkTitle(id) + ": " + r.Status
		if r.Status != "pass" && r.Summary != "" {
			s += " — " + r.Summary
		}
		parts = append(parts, s)
	}
	if ps.QuizID != "" {
		if ps.Quiz != nil {
			parts = append(parts, fmt.Sprintf("Quiz: best %.0f%%, latest %.0f%% (%d attempts)", ps.Quiz.Best*100, ps.Quiz.Latest*100, ps.Quiz.Attempts))
		} else {
			parts = append(parts, "Quiz: not taken")
		}
	}
	if !last.StartedAt.IsZero() {
		parts = append(parts, "Last checked "+web.Ago(last.StartedAt))
	}
	return ps.Title + ". " + strings.Join(parts, ". ")
}

// cohortSummaries loads and derives the progress of a cohort's students
// (userID > 0: one student).
func (s *Server) cohortSummaries(c echo.Context, co *store.Cohort, userID int64) ([]studentSummary, error) {
	return s.summaries(c.Request().Context(), co, userID)
}

func (s *Server) summaries(ctx context.Context, co *store.Cohort, userID int64) ([]studentSummary, error) {
	sps, err := s.db.CohortProgress(ctx, co.ID, userID)
	if err != nil {
		return nil, err
	}
	course, mark := s.course(), cohortPassMark(co)
	out := make([]studentSummary, len(sps))
	for i, sp := range sps {
		out[i] = s.summarize(course, sp, mark)
	}
	return out, nil
}

// dashboard is the cohort's matrix: students × pages, sorted and filtered
// on the server, updated live by dashboard.js.
func (s *Server) dashboard(c echo.Context) error {
	co, err := s.cohortParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	// The matrix, the analytics and the regrades are independent: their
	// queries run at once.
	var (
		all      []studentSummary
		regrades []store.Regrade
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { all, err = s.summaries(gctx, co, 0); return err })
	g.Go(func() (err error) { regrades, err = s.db.RecentRegrades(gctx, co.ID, 5); return err })
	if err := g.Wait(); err != nil {
		return err
	}
	// The hardest checks and the raised hands come from the matrix itself;
	// only the hardest checks' most common diagnosis needs a query.
	hands := matrixHands(all, raiseHandStreak)
	hard := hardestChecks(matrixStats(all), 3)
	pairs := make([][2]string, len(hard))
	for i, h := range hard {
		pairs[i] = [2]string{h.StepID, h.CheckID}
	}
	kinds, err := s.db.TopFailureKinds(ctx, co.ID, pairs, 1)
	if err != nil {
		return err
	}
	for i := range hard {
		hard[i].Kinds = kinds[pairs[i]]
	}
	f := dashFilter(c)
	base := fmt.Sprintf("/cohorts/%d/dashboard", co.ID)
	p := web.DashboardPage{Page: s.page(c, co.Name+" · dashboard"), CohortID: co.ID, CohortName: co.Name, Filter: f, Students: len(all),
		EventsURL: fmt.Sprintf("/cohorts/%d/events", co.ID), RowURL: base + "/row/", SortLinks: map[string]string{}}
	p.Nav = "cohorts"
	p.Columns = matrixColumns(s.course(), pageStates(s.course(), nil, nil, 1))
	var sum float64
	for _, st := range all {
		sum += st.Completion
		if st.NeedsHelp {
			p.NeedHelp++
		}
	}
	if len(all) > 0 {
		p.AvgComplete = sum / float64(len(all))
	}
	list := filterSort(all, f, s.now())
	p.Shown = len(list)
	p.PageCount = (len(list) + dashboardPageSize - 1) / dashboardPageSize
	p.PageNumber, _ = strconv.Atoi(c.QueryParam("page"))
	p.PageNumber = max(1, min(p.PageNumber, p.PageCount))
	from := (p.PageNumber - 1) * dashboardPageSize
	for _, st := range list[min(from, len(list)):min(from+dashboardPageSize, len(list))] {
		p.Rows = append(p.Rows, dashRow(co.ID, st))
	}
	if p.PageNumber > 1 {
		p.PrevURL = base + "?" + dashQuery(f, p.PageNumber-1)
	}
	if p.PageNumber < p.PageCount {
		p.NextURL = base + "?" + dashQuery(f, p.PageNumber+1)
	}
	p.Query = dashQuery(f, 0)
	for _, col := range []string{"name", "completion", "activity"} {
		g := f
		g.Sort, g.Dir = col, ""
		if f.Sort == col {
			g.Dir = map[string]string{"asc": "desc", "desc": "asc"}[f.Dir]
		} else if col == "name" {
			g.Dir = "asc"
		} else {
			g.Dir = "desc"
		}
		p.SortLinks[col] = base + "?" + dashQuery(g, 0)
	}
	for _, pg := range s.checkablePages() {
		p.Steps = append(p.Steps, web.Link{Title: pageLabel(s.course(), pg.ID) + ": " + pg.Title, URL: pg.ID})
	}
	for _, r := range regrades {
		p.Regrades = append(p.Regrades, s.regradeView(r))
	}
	p.Hardest = s.hardest(hard, 3)
	p.HandCount = len(hands)
	for i, h := range hands {
		if i == 5 {
			break
		}
		p.Hands = append(p.Hands, s.handView(co.ID, h))
	}
	return s.render(c, "dashboard", p)
}

// dashboardRow returns one student's row of the matrix as an HTML
// fragment, for the live update.
func (s *Server) dashboardRow(c echo.Context) error {
	co, err := s.cohortParam(c)
	if err != nil {
		return err
	}
	uid, err := memberParam(c) // never 0, which would mean every student
	if err != nil {
		return err
	}
	list, err := s.cohortSummaries(c, co, uid)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return Errorf(http.StatusNotFound, "There is no such student in this cohort.")
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().Header().Set("Cache-Control", "no-store")
	var buf bytesBuffer
	if err := s.web.RenderFragment(&buf, "dashboard", "dashboard-row", dashRow(co.ID, list[0])); err != nil {
		return err
	}
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

// checkablePages are the pages whose checks a regrade can run.
func (s *Server) checkablePages() []*content.Page {
	var out []*content.Page
	for _, st := range pageStates(s.course(), nil, nil, 1) {
		if len(st.Checks) == 0 {
			continue
		}
		if p, ok := s.checkablePage(st.PageID); ok {
			out = append(out, p)
		}
	}
	return out
}

// regradeView shows a regrade's progress.
func (s *Server) regradeView(r store.Regrade) web.RegradeView {
	title := r.StepID
	if p, ok := s.checkablePage(r.StepID); ok {
		title = p.Title
	}
	return web.RegradeView{ID: r.ID, StepTitle: title, Total: r.Total, Done: r.Done, Failed: r.Failed, Cancelled: r.Cancelled,
		Finished: r.Finished(), CreatedAt: r.CreatedAt, CohortID: r.CohortID}
}

// handView shows a raised hand.
func (s *Server) handView(cohortID int64, h store.RaisedHand) web.RaisedHandView {
	name := h.Name
	if name == "" {
		name = h.Email
	}
	title := h.StepID
	if p, ok := s.checkablePage(h.StepID); ok {
		title = p.Title
	}
	kind := h.Kind
	if kind == "" {
		kind = "no diagnosis"
	}
	return web.RaisedHandView{Name: name, DetailURL: fmt.Sprintf("/cohorts/%d/students/%d#page-%s", cohortID, h.UserID, h.StepID),
		StepTitle: title, CheckTitle: checkTitle(h.CheckID), Kind: kind, Streak: h.Streak, Summary: h.Summary, LastAt: h.LastAt}
}

// activeSince reports whether a student did something after t.
func activeSince(st studentSummary, t time.Time) bool { return st.LastActive.After(t) }
