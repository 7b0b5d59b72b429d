package quiz

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on what a student may submit per question.
const (
	MaxAnswerLen = 200 // characters per value
	MaxValues    = 50  // values per question
)

// Attempt is a scored submission of a quiz.
type Attempt struct {
	QuizID string `json:"quiz_id"`
	// Score is Correct / Total, from 0 to 1; every question weighs the same.
	Score    float64 `json:"score"`
	Correct  int     `json:"correct"`
	Total    int     `json:"total"`
	PassMark float64 `json:"pass_mark"`
	// Passed compares Score with the quiz's pass mark; a cohort with its
	// own pass mark uses PassedAt.
	Passed    bool             `json:"passed"`
	Questions []QuestionResult `json:"questions"`
}

// PassedAt reports whether the attempt reaches mark (0 to 1).
func (a Attempt) PassedAt(mark float64) bool { return a.Score >= mark }

// QuestionResult is the outcome of one question, shown after submission.
type QuestionResult struct {
	ID       string `json:"id"`
	Kind     Kind   `json:"kind"`
	Answered bool   `json:"answered"`
	Correct  bool   `json:"correct"`
	// Given is what the student submitted (trimmed, each value cut to MaxAnswerLen).
	Given []string `json:"given,omitempty"`
	// Message says why an answer could not be scored ("not a number"),
	// or is empty.
	Message string `json:"message,omitempty"`
	// Feedback of the options the student chose that have feedback.
	Feedback []Feedback `json:"feedback,omitempty"`
	// Answer is the correct answer in words (option texts are Markdown).
	Answer      string `json:"answer"`
	Explanation string `json:"explanation"`
	// Inputs are the freetier inputs the answer was computed from.
	Inputs map[string]string `json:"inputs,omitempty"`
}

// Feedback is an option's feedback shown to a student who chose it.
type Feedback struct {
	Option  string `json:"option"`
	Correct bool   `json:"correct"`
	Text    string `json:"text"`
}

// Score scores answers on the server. answers maps a question id to the
// submitted values (form values: one for single, number and text, any
// number for multiple); a freetier question's inputs are submitted as
// InputField(question id, input) with one value each. Every question
// weighs the same and is all or nothing; an unanswered or unreadable
// answer is wrong and says why in Message. Score never panics.
func Score(q *Quiz, answers map[string][]string) Attempt {
	if q == nil {
		return Attempt{}
	}
	a := Attempt{QuizID: q.ID, PassMark: q.PassMark, Total: len(q.Questions)}
	for i := range q.Questions {
		r := scoreQuestion(&q.Questions[i], answers)
		if r.Correct {
			a.Correct++
		}
		a.Questions = append(a.Questions, r)
	}
	if a.Total > 0 {
		a.Score = float64(a.Correct) / float64(a.Total)
	}
	a.Passed = a.Total > 0 && a.PassedAt(q.PassMark)
	return a
}

func scoreQuestion(q *Question, answers map[string][]string) QuestionResult {
	r := QuestionResult{ID: q.ID, Kind: q.Kind, Explanation: q.Explanation}
	values, msg := clean(answers[q.ID])
	r.Given = values
	r.Answered = len(values) > 0
	switch q.Kind {
	case KindSingle, KindMultiple:
		r.Answer = correctOptions(q)
	case KindNumber:
		if q.Answer != nil {
			r.Answer = numberAnswer(q.Answer.Value, q.Answer.Tolerance, q.Answer.Unit)
		}
	case KindText:
		if len(q.Accepted) > 0 {
			r.Answer = q.Accepted[0]
		}
	}
	if q.Kind == KindFreetier {
		// The answer depends on the inputs, so work it out even when the
		// student gave no answer: the page can still show it.
		scoreFreetier(q, answers, values, &r)
		if msg != "" && r.Message == "" {
			r.Message = msg
		}
		return r
	}
	switch {
	case msg != "":
		r.Message = msg
	case !r.Answered:
		r.Message = "not answered"
	default:
		switch q.Kind {
		case KindSingle, KindMultiple:
			scoreOptions(q, values, &r)
		case KindNumber:
			if q.Answer == nil {
				r.Message = "this question has no answer set"
				break
			}
			scoreNumber(values, q.Answer.Value, q.Answer.Tolerance, &r)
		case KindText:
			scoreText(q, values, &r)
		default:
			r.Message = fmt.Sprintf("unknown kind %q", q.Kind)
		}
	}
	return r
}

// clean trims the values, drops empty ones and enforces the limits.
func clean(in []string) ([]string, string) {
	var out []string
	msg := ""
	for _, v := range in {
		if len(out) == MaxValues {
			msg = fmt.Sprintf("too many values (at most %d)", MaxValues)
			break
		}
		if !utf8.ValidString(v) {
			v = strings.ToValidUTF8(v, "\uFFFD")
		}
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if utf8.RuneCountInString(v) > MaxAnswerLen {
			v = string([]rune(v)[:MaxAnswerLen])
			msg = fmt.Sprintf("answer too long (at most %d characters)", MaxAnswerLen)
		}
		out = append(out, v)
	}
	return out, msg
}

func correctOptions(q *Question) string {
	var texts []string
	for _, o := range q.Options {
		if o.Correct {
			texts = append(texts, o.Text)
		}
	}
	return strings.Join(texts, "; ")
}

func scoreOptions(q *Question, values []string, r *QuestionResult) {
	if q.Kind == KindSingle && len(values) > 1 {
		r.Message = "choose one option"
		return
	}
	chosen := map[string]bool{}
	for _, v := range values {
		found := false
		for _, o := range q.Options {
			if o.ID == v {
				found = true
			}
		}
		if !found {
			r.Message = fmt.Sprintf("unknown option %q", v)
			r.Feedback = nil
			return
		}
		chosen[v] = true
	}
	right := true
	for _, o := range q.Options {
		if chosen[o.ID] != o.Correct {
			right = false
		}
		if chosen[o.ID] && o.Feedback != "" {
			r.Feedback = append(r.Feedback, Feedback{Option: o.ID, Correct: o.Correct, Text: o.Feedback})
		}
	}
	r.Correct = right && len(chosen) > 0
}

func numberAnswer(value, tolerance float64, unit string) string {
	s := strconv.FormatFloat(value, 'f', -1, 64)
	if tolerance > 0 {
		s += " (± " + strconv.FormatFloat(tolerance, 'f', -1, 64) + ")"
	}
	if unit != "" {
		s += " " + unit
	}
	return s
}

func scoreNumber(values []string, want, tolerance float64, r *QuestionResult) {
	if len(values) > 1 {
		r.Message = "give one number"
		return
	}
	got, err := ParseNumber(values[0])
	if err != nil {
		r.Message = err.Error()
		return
	}
	r.Correct = math.Abs(got-want) <= tolerance+1e-9*math.Max(1, math.Abs(want))
}

var (
	thousands = regexp.MustCompile(`^-?\d{1,3}(,\d{3})+(\.\d+)?$`)
	unitTail  = regexp.MustCompile(`\s*[\p{L}/%][\p{L}/%.\s-]*$`)
)

// ParseNumber reads a number as a student types it: "738", "738 h",
// "$8.56", "8,56" (decimal comma), "1,488" or "1,488.5" (thousands).
func ParseNumber(s string) (float64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(strings.TrimPrefix(t, "~"), "≈")
	t = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(t, "US$"), "$"))
	t = strings.TrimSpace(unitTail.ReplaceAllString(t, ""))
	t = strings.ReplaceAll(t, " ", "")
	switch {
	case thousands.MatchString(t):
		t = strings.ReplaceAll(t, ",", "")
	case strings.Count(t, ",") == 1 && !strings.Contains(t, "."):
		t = strings.Replace(t, ",", ".", 1)
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || !finite(f) {
		return 0, fmt.Errorf("not a number: %q", cut(s, 40))
	}
	return f, nil
}

func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "..."
}

// normalize prepares a text answer for comparison.
func normalize(s string, caseSensitive bool) string {
	s = strings.TrimSpace(s)
	s = strings.Trim(s, "`\"'“”‘’")
	s = strings.Join(strings.Fields(s), " ")
	if !caseSensitive {
		s = strings.ToLower(s)
	}
	return s
}

func scoreText(q *Question, values []string, r *QuestionResult) {
	if len(values) > 1 {
		r.Message = "give one answer"
		return
	}
	got := normalize(values[0], q.CaseSensitive)
	for _, a := range q.Accepted {
		if n := normalize(a, q.CaseSensitive); n != "" && n == got {
			r.Correct = true
			return
		}
	}
}

func scoreFreetier(q *Question, answers map[string][]string, values []string, r *QuestionResult) {
	inputs := map[string]string{}
	for k, v := range q.Given {
		inputs[k] = v
	}
	for _, in := range q.Inputs {
		vs, msg := clean(answers[InputField(q.ID, in)])
		if msg != "" {
			r.Message = in + ": " + msg
			return
		}
		if len(vs) > 1 {
			r.Message = in + ": give one value"
			return
		}
		if len(vs) == 1 {
			inputs[in] = vs[0]
		}
	}
	r.Inputs = inputs
	want, err := compute(q.Compute, inputs)
	if err != nil {
		r.Message = err.Error()
		return
	}
	unit := q.Unit
	if unit == "" {
		unit = Computations[q.Compute].Unit
	}
	r.Answer = numberAnswer(want, q.Tolerance, unit)
	if !r.Answered {
		r.Message = "not answered"
		return
	}
	scoreNumber(values, want, q.Tolerance, r)
}
