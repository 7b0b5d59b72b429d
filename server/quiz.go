package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/content"
	"github.com/coursekit/workshop/quiz"
	"github.com/coursekit/workshop/store"
)

// quizPage finds the page a quiz belongs to.
func (s *Server) quizPage(quizID string) *content.Page {
	for _, p := range s.course().Pages() {
		if p.QuizID == quizID {
			return p
		}
	}
	return nil
}

// submitQuiz scores a quiz on the server, stores the attempt and shows the
// marks, the explanations and the feedback beside the questions.
func (s *Server) submitQuiz(c echo.Context) error {
	u := s.currentUser(c)
	q, ok := s.quizFor(c.Param("id"))
	if !ok {
		return Errorf(http.StatusNotFound, "There is no quiz %q in the course.", c.Param("id"))
	}
	answers, err := s.quizAnswers(c, q)
	if err != nil {
		return err
	}
	attempt := quiz.Score(q, answers)
	results, err := json.Marshal(attempt)
	if err != nil {
		return err
	}
	rec := store.QuizAttempt{UserID: u.ID, QuizID: q.ID, Answers: answers, Results: results, Score: attempt.Score, Correct: attempt.Correct, Total: attempt.Total}
	if co := s.studentCohort(c); co != nil {
		id := co.ID
		rec.CohortID = &id
	}
	if _, err := s.db.RecordAttempt(c.Request().Context(), rec); err != nil {
		return err
	}
	if wantsJSON(c) {
		return c.JSON(http.StatusOK, map[string]any{"attempt": attempt, "passed": attempt.PassedAt(s.passMark(c))})
	}
	back := "/guide"
	if p := s.quizPage(q.ID); p != nil {
		back = content.PageURL(p.Kind, s.preferredVariant(c), p.ID)
	}
	return c.Redirect(http.StatusSeeOther, back+"#quiz")
}

// quizAnswers reads the answers from a form or a JSON body
// ({"answers": {"question-id": ["value", ...]}}), refusing what no
// question could hold.
func (s *Server) quizAnswers(c echo.Context, q *quiz.Quiz) (map[string][]string, error) {
	answers := map[string][]string{}
	if strings.HasPrefix(c.Request().Header.Get("Content-Type"), "application/json") {
		var body struct {
			Answers map[string][]string `json:"answers"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, 64<<10)).Decode(&body); err != nil {
			return nil, Errorf(http.StatusBadRequest, `The body must be JSON like {"answers": {"question-id": ["a"]}}.`)
		}
		answers = body.Answers
	} else {
		form, err := c.FormParams()
		if err != nil {
			return nil, Errorf(http.StatusBadRequest, "The answers could not be read; please submit the form again.")
		}
		for _, question := range q.Questions {
			if v, ok := form[question.ID]; ok {
				answers[question.ID] = v
			}
			for _, in := range question.Inputs {
				field := quiz.InputField(question.ID, in)
				if v, ok := form[field]; ok {
					answers[field] = v
				}
			}
		}
	}
	fields := map[string]string{}
	for k, vs := range answers {
		if len(vs) > quiz.MaxValues {
			fields[k] = "too many values"
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				fields[k] = "the answer is not valid UTF-8 text"
			} else if len(v) > 10_000 {
				fields[k] = "the answer is too long"
			}
		}
	}
	if len(fields) > 0 {
		return nil, &FieldErrors{Code: http.StatusUnprocessableEntity, Fields: fields}
	}
	return answers, nil
}
