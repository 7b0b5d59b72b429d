package server

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// exportRow is one student in the cohort exports (CSV and JSON).
type exportRow struct {
	Name          string       `json:"name"`
	Email         string       `json:"email"`
	JoinedAt      time.Time    `json:"joined_at"`
	LastActive    *time.Time   `json:"last_active"`
	Pages         []exportPage `json:"pages"`
	PagesDone     int          `json:"pages_done"`
	PagesTotal    int          `json:"pages_total"`
	Completion    float64      `json:"completion"`
	ChecksPassed  int          `json:"checks_passed"`
	ChecksTotal   int          `json:"checks_total"`
	QuizzesPassed int          `json:"quizzes_passed"`
	QuizzesTotal  int          `json:"quizzes_total"`
}

// exportPage is a student's state on one page.
type exportPage struct {
	ID       string   `json:"id"`
	State    string   `json:"state"` // done, failing, started, not-started
	HasQuiz  bool     `json:"-"`
	QuizBest *float64 `json:"quiz_best,omitempty"` // 0..1; absent when not taken or no quiz
}

// exportRows derives the export of a cohort's students (in name order).
func (s *Server) exportRows(c echo.Context) (string, []exportRow, error) {
	co, err := s.cohortParam(c)
	if err != nil {
		return "", nil, err
	}
	all, err := s.cohortSummaries(c, co, 0)
	if err != nil {
		return "", nil, err
	}
	out := make([]exportRow, 0, len(all))
	for _, st := range all {
		r := exportRow{Name: st.Name, Email: st.Email, JoinedAt: st.JoinedAt, PagesDone: st.Done, PagesTotal: st.Total, Completion: st.Completion}
		if !st.LastActive.IsZero() {
			t := st.LastActive
			r.LastActive = &t
		}
		for _, ps := range st.States {
			if len(ps.Checks) == 0 && ps.QuizID == "" {
				continue
			}
			state := ps.Mark()
			if state == "" {
				state = "not-started"
			}
			ep := exportPage{ID: ps.PageID, State: state, HasQuiz: ps.QuizID != ""}
			for _, id := range ps.Checks {
				r.ChecksTotal++
				if run, ok := ps.Latest.Get(id); ok && run.Status == "pass" {
					r.ChecksPassed++
				}
			}
			if ps.QuizID != "" {
				r.QuizzesTotal++
				if ps.Quiz != nil {
					b := ps.Quiz.Best
					ep.QuizBest = &b
					if ps.QuizDone {
						r.QuizzesPassed++
					}
				}
			}
			r.Pages = append(r.Pages, ep)
		}
		out = append(out, r)
	}
	return fmt.Sprintf("cohort-%d-progress", co.ID), out, nil
}

// exportCSV downloads the cohort as CSV: one row per student, a column per
// page and per quiz, then the totals.
func (s *Server) exportCSV(c echo.Context) error {
	name, rows, err := s.exportRows(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	header := []string{"name", "email", "joined_at", "last_active"}
	for _, p := range s.exportColumns(rows) {
		header = append(header, p.ID)
		if p.HasQuiz {
			header = append(header, p.ID+" quiz best %")
		}
	}
	header = append(header, "pages_done", "pages_total", "completion %", "checks_passed", "checks_total", "quizzes_passed", "quizzes_total")
	_ = w.Write(safeCells(header))
	for _, r := range rows {
		rec := []string{r.Name, r.Email, r.JoinedAt.UTC().Format(time.RFC3339), ""}
		if r.LastActive != nil {
			rec[3] = r.LastActive.UTC().Format(time.RFC3339)
		}
		for _, p := range r.Pages {
			rec = append(rec, p.State)
			if p.HasQuiz {
				v := ""
				if p.QuizBest != nil {
					v = strconv.FormatFloat(*p.QuizBest*100, 'f', 0, 64)
				}
				rec = append(rec, v)
			}
		}
		rec = append(rec, strconv.Itoa(r.PagesDone), strconv.Itoa(r.PagesTotal), strconv.FormatFloat(r.Completion*100, 'f', 0, 64),
			strconv.Itoa(r.ChecksPassed), strconv.Itoa(r.ChecksTotal), strconv.Itoa(r.QuizzesPassed), strconv.Itoa(r.QuizzesTotal))
		_ = w.Write(safeCells(rec))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// exportColumns are the pages every row lists, in order.
func (s *Server) exportColumns(rows []exportRow) []exportPage {
	if len(rows) > 0 {
		return rows[0].Pages
	}
	var out []exportPage
	for _, ps := range pageStates(s.course(), nil, nil, 1) {
		if len(ps.Checks) > 0 || ps.QuizID != "" {
			out = append(out, exportPage{ID: ps.PageID, HasQuiz: ps.QuizID != ""})
		}
	}
	return out
}

// exportJSON downloads the same data as exportCSV as JSON.
func (s *Server) exportJSON(c echo.Context) error {
	name, rows, err := s.exportRows(c)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`.json"`)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"students": rows})
}

// safeCell keeps a spreadsheet from reading a cell as a formula: a value
// starting with =, +, -, @, a tab or a carriage return gets a leading '.
func safeCell(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + v
	}
	return v
}

func safeCells(rec []string) []string {
	for i, v := range rec {
		rec[i] = safeCell(v)
	}
	return rec
}
