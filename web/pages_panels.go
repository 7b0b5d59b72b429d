package web

import (
	"html/template"
	"time"
)

// CheckPanel is the "Check my work" box beside a step.
type CheckPanel struct {
	CSRF        string
	StepID      string
	Action      string // the POST URL
	Checks      []CheckTitle
	Results     []ResultView
	CheckedAt   time.Time
	Message     string // e.g. "Checked 12 s ago: wait 18 s before checking again."
	NeedsTarget bool   // the student has not told us where their host is
	Passed      bool   // every check of the step passed on the last run
}

// CheckTitle names a check before it has run.
type CheckTitle struct {
	ID, Title string
}

// ResultView is one check's result as the page shows it.
type ResultView struct {
	CheckID  string
	Title    string
	Status   string // pass, fail, warn, error
	Summary  string
	Evidence []string
	Hint     string
	Kind     string
	At       time.Time
	Duration string
}

// StatusLabel is the word shown beside the colour, so colour is never the
// only signal.
func (r ResultView) StatusLabel() string {
	switch r.Status {
	case "pass":
		return "Passed"
	case "fail":
		return "Not yet"
	case "warn":
		return "Almost"
	case "error":
		return "Could not check"
	}
	return r.Status
}

// QuizPanel is a quiz under a page: the questions before an answer, the
// marked answers after one.
type QuizPanel struct {
	CSRF      string
	QuizID    string
	Title     string
	Action    string
	PassMark  float64
	Questions []QuestionView
	Scored    bool // the questions carry the last attempt's marks
	Score     float64
	Correct   int
	Total     int
	Passed    bool
	Best      float64
	Attempts  int
}

// QuestionView is one question, with the student's answer and its mark
// once submitted.
type QuestionView struct {
	ID          string
	Kind        string
	Prompt      template.HTML
	Options     []OptionView
	Unit        string
	Inputs      []InputView
	Given       []GivenView
	Value       string // the typed answer (number, text)
	Answered    bool
	Correct     bool
	Message     string
	Explanation template.HTML
	Expected    string
}

// OptionView is one choice.
type OptionView struct {
	ID       string
	Text     template.HTML
	Chosen   bool
	Feedback template.HTML
	Right    bool // shown after answering: this option is a correct one
}

// InputView is an input of a computed (free-tier) question.
type InputView struct {
	Field, Label, Type, Value string
	Choices                   []string
}

// GivenView is an input the question fixes.
type GivenView struct {
	Label, Value string
}
