package server

import (
	"sort"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/web"
)

// stuckKinds is how many failure diagnoses the stuck page lists per check.
const stuckKinds = 3

// cohortStuck shows where a cohort is stuck: per step and check, how many
// students tried, passed and keep failing, the commonest diagnoses and the
// median time to pass; and the students who raised a hand.
func (s *Server) cohortStuck(c echo.Context) error {
	co, err := s.cohortParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	stats, err := s.db.CohortCheckStats(ctx, co.ID, stuckKinds)
	if err != nil {
		return err
	}
	hands, err := s.db.RaisedHands(ctx, co.ID, raiseHandStreak)
	if err != nil {
		return err
	}
	p := web.StuckPage{Page: s.page(c, co.Name+" · where they are stuck"), CohortID: co.ID, CohortName: co.Name, Streak: raiseHandStreak}
	p.Nav = "cohorts"
	byKey := map[[2]string]int{}
	for i, st := range stats {
		byKey[[2]string{st.StepID, st.CheckID}] = i
	}
	for _, pg := range s.checkablePages() {
		step := web.StuckStep{ID: pg.ID, Title: pageLabel(s.course(), pg.ID) + ": " + pg.Title}
		for _, id := range pg.Checks {
			sc := web.StuckCheck{ID: id, Title: checkTitle(id), Median: "—"}
			if i, ok := byKey[[2]string{pg.ID, id}]; ok {
				st := stats[i]
				sc.Tried, sc.Passed, sc.EverPassed, sc.KeepFailing = st.Tried, st.Passed, st.EverPassed, st.KeepFailing
				if st.MedianToPass != nil {
					sc.Median = humanDuration(*st.MedianToPass)
				}
				for _, k := range st.Kinds {
					kind := k.Kind
					if kind == "" {
						kind = "no diagnosis"
					}
					sc.Kinds = append(sc.Kinds, web.KindView{Kind: kind, Runs: k.Runs, Students: k.Students})
				}
			}
			step.Checks = append(step.Checks, sc)
		}
		p.Steps = append(p.Steps, step)
	}
	for _, h := range hands {
		p.Hands = append(p.Hands, s.handView(co.ID, h))
	}
	p.Hardest = s.hardest(stats, 5)
	return s.render(c, "stuck", p)
}

// hardest picks the checks the most students keep failing (then the
// most students have not passed yet), with their commonest diagnosis.
func (s *Server) hardest(stats []store.CheckStats, n int) []web.HardCheck {
	var out []web.HardCheck
	for _, st := range hardestChecks(stats, n) {
		h := web.HardCheck{StepID: st.StepID, StepTitle: st.StepID, CheckTitle: checkTitle(st.CheckID), KeepFailing: st.KeepFailing,
			NotPassing: st.Tried - st.Passed}
		if p, ok := s.checkablePage(st.StepID); ok {
			h.StepTitle = pageLabel(s.course(), p.ID) + ": " + p.Title
		}
		if len(st.Kinds) > 0 {
			h.TopKind, h.TopKindRuns = st.Kinds[0].Kind, st.Kinds[0].Runs
		}
		out = append(out, h)
	}
	return out
}

// hardestChecks returns the n checks the most students keep failing, then
// do not pass, among those some student does not pass.
func hardestChecks(stats []store.CheckStats, n int) []store.CheckStats {
	var out []store.CheckStats
	for _, st := range stats {
		if st.Tried-st.Passed > 0 {
			out = append(out, st)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].KeepFailing != out[j].KeepFailing {
			return out[i].KeepFailing > out[j].KeepFailing
		}
		return out[i].Tried-out[i].Passed > out[j].Tried-out[j].Passed
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// matrixStats derives, from the students the matrix loaded, what
// CohortCheckStats counts in SQL except the median and the diagnoses: per
// check, the students who ran it, whose last run passed, and who keep
// failing it. Ordered by step and check, as CohortCheckStats.
func matrixStats(all []studentSummary) []store.CheckStats {
	pos := map[[2]string]int{}
	var out []store.CheckStats
	for _, st := range all {
		for _, p := range st.Checks {
			key := [2]string{p.StepID, p.CheckID}
			i, ok := pos[key]
			if !ok {
				i = len(out)
				pos[key] = i
				out = append(out, store.CheckStats{StepID: p.StepID, CheckID: p.CheckID})
			}
			out[i].Tried++
			if p.FirstPassAt != nil {
				out[i].EverPassed++
			}
			switch {
			case p.LastStatus == "pass":
				out[i].Passed++
			case p.FailStreak >= 2:
				out[i].KeepFailing++
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].StepID != out[j].StepID {
			return out[i].StepID < out[j].StepID
		}
		return out[i].CheckID < out[j].CheckID
	})
	return out
}

// matrixHands derives RaisedHands from the students the matrix loaded:
// the checks whose last minStreak runs or more failed with one diagnosis,
// longest streak first, then the most recent.
func matrixHands(all []studentSummary, minStreak int) []store.RaisedHand {
	var out []store.RaisedHand
	for _, st := range all {
		for _, p := range st.Checks {
			if p.LastStatus != "pass" && p.KindStreak >= minStreak {
				out = append(out, store.RaisedHand{UserID: st.ID, Name: st.Name, Email: st.Email, StepID: p.StepID, CheckID: p.CheckID,
					Kind: p.LastKind, Streak: p.KindStreak, Summary: p.LastSummary, LastAt: p.LastAt})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Streak != b.Streak {
			return a.Streak > b.Streak
		}
		if !a.LastAt.Equal(b.LastAt) {
			return a.LastAt.After(b.LastAt)
		}
		return a.UserID < b.UserID
	})
	return out
}

// humanDuration says a duration the way people read it: "45 s", "12 min",
// "3 h 5 min".
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return itoa(int64(d/time.Second)) + " s"
	case d < time.Hour:
		return itoa(int64(d/time.Minute)) + " min"
	case d < 48*time.Hour:
		h := int64(d / time.Hour)
		m := int64((d % time.Hour) / time.Minute)
		return itoa(h) + " h " + itoa(m) + " min"
	}
	return itoa(int64(d/(24*time.Hour))) + " days"
}

// adminCohorts is the bootcamp overview: every cohort with its students'
// completion, from one set of queries for all cohorts.
func (s *Server) adminCohorts(c echo.Context) error {
	ctx := c.Request().Context()
	cohorts, err := s.db.ListCohorts(ctx)
	if err != nil {
		return err
	}
	ids := make([]int64, len(cohorts))
	for i, co := range cohorts {
		ids[i] = co.ID
	}
	sps, err := s.db.CohortsProgress(ctx, ids)
	if err != nil {
		return err
	}
	p := web.AdminCohortsPage{Page: s.page(c, "All cohorts")}
	p.Nav = "admin"
	pos := map[int64]int{}
	for i, co := range cohorts {
		pos[co.ID] = i
		p.Cohorts = append(p.Cohorts, web.CohortOverview{ID: co.ID, Name: co.Name})
	}
	course := s.course()
	dayAgo := s.now().Add(-24 * time.Hour)
	for _, sp := range sps {
		i := pos[sp.CohortID]
		sum := s.summarize(course, sp, cohortPassMark(&cohorts[i]))
		o := &p.Cohorts[i]
		o.Students++
		o.Completion += sum.Completion
		if sum.Total > 0 && sum.Done == sum.Total {
			o.Finished++
		}
		if activeSince(sum, dayAgo) {
			o.ActiveDay++
		}
		if sum.NeedsHelp {
			o.NeedHelp++
		}
	}
	for i := range p.Cohorts {
		if n := p.Cohorts[i].Students; n > 0 {
			p.Cohorts[i].Completion /= float64(n)
		}
	}
	return s.render(c, "admin_cohorts", p)
}
