package server

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/content"
	"github.com/coursekit/workshop/grader"
	"github.com/coursekit/workshop/quiz"
	"github.com/coursekit/workshop/web"
)

// variantHints lists the variants a signed-in person prefers, best first:
// their own choice, then their cohort's default.
func (s *Server) variantHints(c echo.Context) []string {
	u := s.currentUser(c)
	if u == nil {
		return nil
	}
	hints := []string{u.PreferredVariant}
	if co := s.studentCohort(c); co != nil {
		hints = append(hints, co.DefaultVariant)
	}
	return hints
}

// saveVariant stores a signed-in person's variant; false when anonymous.
func (s *Server) saveVariant(c echo.Context, variant string) bool {
	u := s.currentUser(c)
	if u == nil {
		return false
	}
	if u.PreferredVariant != variant {
		if _, err := s.db.UpdateProfile(c.Request().Context(), u.ID, u.Name, variant); err != nil {
			s.log.Warn("remember variant", "user", u.ID, "err", err)
		} else {
			u.PreferredVariant = variant
		}
	}
	return true
}

// passMark is the cohort's pass mark for quizzes, or the default.
func (s *Server) passMark(c echo.Context) float64 {
	if co := s.studentCohort(c); co != nil && co.PassMark > 0 {
		return co.PassMark
	}
	return quiz.DefaultPassMark
}

// marks returns the sidebar mark of every page for the signed-in student.
func (s *Server) marks(c echo.Context) map[string]string {
	u := s.currentUser(c)
	if u == nil {
		return nil
	}
	states, err := s.studentStates(c.Request().Context(), u.ID, s.passMark(c))
	if err != nil {
		s.log.Warn("progress marks", "user", u.ID, "err", err)
		return nil
	}
	out := map[string]string{}
	for _, st := range states {
		out[st.PageID] = st.Mark()
	}
	return out
}

// fillPanels adds the check and quiz panels of a page for a signed-in
// student.
func (s *Server) fillPanels(c echo.Context, page *content.Page, p *web.CoursePage) error {
	u := s.currentUser(c)
	if u == nil {
		return nil
	}
	ctx := c.Request().Context()
	if len(page.Checks) > 0 {
		panel := &web.CheckPanel{StepID: page.ID, Action: "/steps/" + page.ID + "/check"}
		for _, id := range page.Checks {
			title := id
			if chk, ok := grader.Lookup(id); ok {
				title = chk.Title()
			}
			panel.Checks = append(panel.Checks, web.CheckTitle{ID: id, Title: title})
		}
		history, err := s.db.StepHistory(ctx, u.ID, page.ID, 50)
		if err != nil {
			return err
		}
		if len(history) > 0 {
			batch := history[0].BatchID
			panel.CheckedAt = history[0].StartedAt
			panel.Passed = true
			for _, r := range history {
				if r.BatchID != batch {
					break
				}
				panel.Results = append(panel.Results, resultView(r.CheckID, r.Title, r.Status, r.Summary, r.Evidence, r.Hint, r.Kind, r.StartedAt, r.Duration))
				if r.Status != "pass" {
					panel.Passed = false
				}
			}
			reverse(panel.Results)
			if ok, msg := grader.CheckedAgo(panel.CheckedAt, s.now(), s.checkEvery); !ok {
				panel.Message = msg
			}
		}
		t, err := s.db.Target(ctx, u.ID)
		if err != nil {
			return err
		}
		panel.NeedsTarget = t.DockerMode == "none" && t.AWSMode == "none"
		panel.CSRF = p.CSRF
		p.Checks = panel
	}
	if page.QuizID != "" {
		panel, err := s.quizPanel(c, page.QuizID, c.QueryParam("retry") == "")
		if err != nil {
			return err
		}
		if panel != nil {
			panel.CSRF = p.CSRF
		}
		p.Quiz = panel
	}
	return nil
}

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

func resultView(id, title, status, summary string, evidence []string, hint, kind string, at time.Time, d time.Duration) web.ResultView {
	return web.ResultView{CheckID: id, Title: title, Status: status, Summary: summary, Evidence: evidence, Hint: hint, Kind: kind, At: at,
		Duration: fmt.Sprintf("%.1f s", d.Seconds())}
}

// quizFor returns the parsed quiz with the given id.
func (s *Server) quizFor(id string) (*quiz.Quiz, bool) {
	q, ok := s.course().Quizzes[id]
	return q, ok && q != nil
}

// quizPanel shows the quiz; withLast shows the last attempt's marks.
func (s *Server) quizPanel(c echo.Context, id string, withLast bool) (*web.QuizPanel, error) {
	q, ok := s.quizFor(id)
	if !ok {
		return nil, nil
	}
	pub := q.Public()
	mark := s.passMark(c)
	panel := &web.QuizPanel{QuizID: q.ID, Title: q.Title, Action: "/quizzes/" + q.ID, PassMark: mark}
	var last *quiz.Attempt
	if u := s.currentUser(c); u != nil {
		scores, err := s.db.QuizScores(c.Request().Context(), u.ID)
		if err != nil {
			return nil, err
		}
		if sc, ok := scores[q.ID]; ok {
			panel.Best, panel.Attempts = sc.Best, sc.Attempts
			if withLast {
				attempts, err := s.db.QuizAttempts(c.Request().Context(), u.ID, q.ID, 1)
				if err != nil {
					return nil, err
				}
				if len(attempts) == 1 {
					var a quiz.Attempt
					if json.Unmarshal(attempts[0].Results, &a) == nil && len(a.Questions) > 0 {
						last = &a
					}
				}
			}
		}
	}
	results := map[string]quiz.QuestionResult{}
	if last != nil {
		panel.Scored, panel.Score, panel.Correct, panel.Total, panel.Passed = true, last.Score, last.Correct, last.Total, last.PassedAt(mark)
		for _, r := range last.Questions {
			results[r.ID] = r
		}
	}
	for _, pq := range pub.Questions {
		qv := web.QuestionView{ID: pq.ID, Kind: string(pq.Kind), Prompt: content.RenderMarkdown(pq.Prompt, true), Unit: pq.Unit}
		r, answered := results[pq.ID]
		chosen := map[string]bool{}
		if answered {
			for _, g := range r.Given {
				chosen[g] = true
			}
			qv.Answered, qv.Correct, qv.Message = r.Answered, r.Correct, r.Message
			qv.Explanation = content.RenderMarkdown(r.Explanation, false)
			qv.Expected = r.Answer
			if len(r.Given) > 0 && (pq.Kind == quiz.KindNumber || pq.Kind == quiz.KindText || pq.Kind == quiz.KindFreetier) {
				qv.Value = r.Given[0]
			}
		}
		full := q.Question(pq.ID)
		for _, o := range pq.Options {
			ov := web.OptionView{ID: o.ID, Text: content.RenderMarkdown(o.Text, true), Chosen: chosen[o.ID]}
			if answered && full != nil {
				for _, fo := range full.Options {
					if fo.ID == o.ID {
						ov.Right = fo.Correct
						if ov.Chosen && fo.Feedback != "" {
							ov.Feedback = content.RenderMarkdown(fo.Feedback, false)
						}
					}
				}
			}
			qv.Options = append(qv.Options, ov)
		}
		for _, in := range pq.Inputs {
			iv := web.InputView{Field: quiz.InputField(pq.ID, in.Name), Label: in.Label, Type: in.Type, Choices: in.Choices}
			if answered {
				iv.Value = r.Inputs[in.Name]
			}
			qv.Inputs = append(qv.Inputs, iv)
		}
		for _, g := range pq.Given {
			qv.Given = append(qv.Given, web.GivenView{Label: g.Label, Value: g.Value})
		}
		panel.Questions = append(panel.Questions, qv)
	}
	return panel, nil
}
