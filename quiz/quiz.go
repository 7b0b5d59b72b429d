// Package quiz holds the course's quizzes: the question model read from
// YAML, a public view without answers for the page, and server-side
// scoring with feedback and explanations.
//
// # File format
//
// One quiz per page, in a file quiz.yaml beside it. Parse is strict: an
// unknown field, a duplicate field, a field that the question's kind does
// not use, or a value of the wrong type is a problem reported with the
// file and line.
//
//	id: publish-port          # required; the page's id (step, topic or bonus id)
//	title: Publishing a port  # required
//	pass_mark: 0.75           # optional, 0 < pass_mark <= 1, default 0.7
//	questions:                # required, at least one
//	  - id: loopback-bind     # required; unique in the quiz; a-z, 0-9, "-" and "_",
//	                          #   starting with a letter or digit (it names form fields)
//	    kind: single          # required: single | multiple | number | text | freetier
//	    prompt: "..."         # required; Markdown, inline only (rendered by the caller)
//	    explanation: "..."    # required; Markdown; shown after the answer is submitted
//	    # kind single and multiple:
//	    options:              # required, at least two
//	      - id: a             # required; unique in the question; letters, digits, "-", "_"
//	        text: "..."       # required; Markdown, inline only
//	        correct: true     # optional, default false; single: exactly one option is
//	                          #   correct; multiple: at least one
//	        feedback: "..."   # optional; Markdown; shown when the student chose this option
//	    # kind number:
//	    answer:               # required
//	      value: 738          # required; a number
//	      tolerance: 0        # optional, >= 0, default 0: |given - value| <= tolerance is right
//	      unit: hours         # optional; shown beside the input box
//	    # kind text:
//	    accepted: ["--rm", "rm"]  # required, at least one non-empty answer
//	    case_sensitive: false # optional, default false (set it when case matters: -p vs -P)
//	    # kind freetier (the answer is computed by package freetier, never written down):
//	    compute: even-split-hours # required; one of the names listed in Computations
//	    inputs: [instances, month] # inputs the student enters (see Computations)
//	    given: {month: 2026-02}    # inputs fixed by the question; inputs and given together
//	                               #   must supply every input the computation requires
//	    unit: hours           # optional; shown beside the input box
//	    tolerance: 0.5        # optional, >= 0, default 0
//
// Answers are compared as follows. single: the one chosen option is the
// correct one. multiple: the chosen set equals the correct set exactly
// (all or nothing: a teacher sees plainly what was understood, and guessing
// every box earns nothing). number and freetier: the answer may carry a
// unit or a "$" ("738 h", "$8.56") and use "," as decimal comma ("8,56") or
// thousands separator ("1,488"). text: surrounding whitespace, quotes and
// backticks are dropped, inner whitespace collapsed, and case ignored
// unless case_sensitive.
package quiz

import "strconv"

// Kind is a question's kind.
type Kind string

// The question kinds.
const (
	KindSingle   Kind = "single"   // one correct option
	KindMultiple Kind = "multiple" // one or more correct options, all or nothing
	KindNumber   Kind = "number"   // a number within a tolerance
	KindText     Kind = "text"     // a short text among accepted variants
	KindFreetier Kind = "freetier" // a number computed by package freetier from inputs
)

// DefaultPassMark is the pass mark of a quiz that sets none.
const DefaultPassMark = 0.7

// Quiz is one page's quiz, answers included: never hand it to a template;
// use Public for the page.
type Quiz struct {
	ID        string     `json:"id"`
	Title     string     `json:"title"`
	PassMark  float64    `json:"pass_mark"`
	File      string     `json:"file"`
	Questions []Question `json:"questions"`
}

// Question is one question with its answer.
type Question struct {
	ID            string            `json:"id"`
	Kind          Kind              `json:"kind"`
	Prompt        string            `json:"prompt"`
	Explanation   string            `json:"explanation"`
	Options       []Option          `json:"options,omitempty"`
	Answer        *NumberAnswer     `json:"answer,omitempty"`
	Accepted      []string          `json:"accepted,omitempty"`
	CaseSensitive bool              `json:"case_sensitive,omitempty"`
	Compute       string            `json:"compute,omitempty"`
	Inputs        []string          `json:"inputs,omitempty"`
	Given         map[string]string `json:"given,omitempty"`
	Unit          string            `json:"unit,omitempty"`
	Tolerance     float64           `json:"tolerance,omitempty"`
	// Line is where the question starts in its file.
	Line int `json:"line"`
}

// Option is a choice of a single or multiple question.
type Option struct {
	ID       string `json:"id"`
	Text     string `json:"text"`
	Correct  bool   `json:"correct,omitempty"`
	Feedback string `json:"feedback,omitempty"`
}

// NumberAnswer is the answer of a number question.
type NumberAnswer struct {
	Value     float64 `json:"value"`
	Tolerance float64 `json:"tolerance,omitempty"`
	Unit      string  `json:"unit,omitempty"`
}

// Problem is something wrong in a quiz file, with its place.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// String formats the problem as file:line: message.
func (p Problem) String() string {
	if p.Line > 0 {
		return p.File + ":" + strconv.Itoa(p.Line) + ": " + p.Message
	}
	return p.File + ": " + p.Message
}

// Question returns the question with id, or nil.
func (q *Quiz) Question(id string) *Question {
	for i := range q.Questions {
		if q.Questions[i].ID == id {
			return &q.Questions[i]
		}
	}
	return nil
}
