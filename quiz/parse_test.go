package quiz

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

func TestParseExamples(t *testing.T) {
	for _, name := range []string{"testdata/publish-port.yaml", "testdata/bonus.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		q, problems := Parse(data, name)
		if len(problems) > 0 {
			t.Errorf("%s: %v", name, problems)
		}
		if q == nil || len(q.Questions) == 0 {
			t.Errorf("%s: no questions", name)
		}
	}
}

func TestParseBrokenFile(t *testing.T) {
	q, problems := Load(os.DirFS("testdata"), "broken.yaml")
	if q == nil {
		t.Fatal("nil quiz for a YAML file")
	}
	want := []struct {
		line int
		msg  string
	}{
		{3, "pass_mark must be more than 0 and at most 1"},
		{4, `unknown field "colour"`},
		{9, "no correct answer"},
		{18, "exactly one correct option; this one has 2"},
		{22, `duplicate question id "no-correct" (first on line 6)`},
		{23, `unknown kind "essay"`},
		{29, "no correct answer: answer has no value"},
		{33, "prompt is missing or empty"},
		{40, `unknown field "options" in question (kind number)`},
		{45, "compute must name a computation"},
	}
	got := map[int]string{}
	for _, p := range problems {
		if p.File != "broken.yaml" {
			t.Errorf("problem file %q", p.File)
		}
		got[p.Line] += p.Message + "|"
	}
	for _, w := range want {
		if !strings.Contains(got[w.line], w.msg) {
			t.Errorf("line %d: got %q, want %q", w.line, got[w.line], w.msg)
		}
	}
	if len(problems) != len(want) {
		for _, p := range problems {
			t.Log(p)
		}
		t.Errorf("%d problems, want %d", len(problems), len(want))
	}
}

func TestParseProblems(t *testing.T) {
	head := "id: q\ntitle: T\nquestions:\n"
	tests := []struct {
		name string
		yaml string
		line int
		msg  string
	}{
		{"not YAML", "id: [unclosed\n", 1, "not valid YAML"},
		{"empty file", "", 0, "the file is empty"},
		{"not a mapping", "- a\n- b\n", 1, "the quiz must be a mapping"},
		{"missing id", "title: T\nquestions:\n  - {id: a, kind: text, prompt: P, accepted: [x], explanation: E}\n", 1, "id is missing"},
		{"bad quiz id", "id: Publish Port\ntitle: T\nquestions:\n  - {id: a, kind: text, prompt: P, accepted: [x], explanation: E}\n", 1, `id "Publish Port"`},
		{"no questions", "id: q\ntitle: T\n", 1, "no questions"},
		{"questions not a list", "id: q\ntitle: T\nquestions: 3\n", 3, "questions must be a list"},
		{"empty questions", "id: q\ntitle: T\nquestions: []\n", 3, "questions is empty"},
		{"question not a mapping", head + "  - hello\n", 4, "a question must be a mapping"},
		{"missing kind", head + "  - {id: a, prompt: P, explanation: E}\n", 4, "kind is missing"},
		{"missing explanation", head + "  - {id: a, kind: text, prompt: P, accepted: [x]}\n", 4, "explanation is missing"},
		{"bad question id", head + "  - {id: a.b, kind: text, prompt: P, accepted: [x], explanation: E}\n", 4, `question id "a.b"`},
		{"repeated field", head + "  - id: a\n    id: b\n    kind: text\n    prompt: P\n    accepted: [x]\n    explanation: E\n", 5, `field "id" repeated`},
		{"one option", head + "  - id: a\n    kind: single\n    prompt: P\n    explanation: E\n    options:\n      - {id: x, text: X, correct: true}\n", 8, "at least two options"},
		{"duplicate option", head + "  - id: a\n    kind: multiple\n    prompt: P\n    explanation: E\n    options:\n      - {id: x, text: X, correct: true}\n      - {id: x, text: Y}\n", 10, `duplicate option id "x"`},
		{"multiple without correct", head + "  - id: a\n    kind: multiple\n    prompt: P\n    explanation: E\n    options:\n      - {id: x, text: X}\n      - {id: y, text: Y}\n", 8, "no correct answer"},
		{"option unknown field", head + "  - id: a\n    kind: single\n    prompt: P\n    explanation: E\n    options:\n      - {id: x, text: X, correct: true, right: true}\n      - {id: y, text: Y}\n", 9, `unknown field "right" in option`},
		{"option missing text", head + "  - id: a\n    kind: single\n    prompt: P\n    explanation: E\n    options:\n      - {id: x, correct: true}\n      - {id: y, text: Y}\n", 9, "text is missing"},
		{"correct not a bool", head + "  - id: a\n    kind: single\n    prompt: P\n    explanation: E\n    options:\n      - {id: x, text: X, correct: maybe}\n      - {id: y, text: Y}\n", 9, "correct: want true or false, got maybe"},
		{"number without answer", head + "  - {id: a, kind: number, prompt: P, explanation: E}\n", 4, "needs answer: {value: ...}"},
		{"number value not a number", head + "  - id: a\n    kind: number\n    prompt: P\n    explanation: E\n    answer: {value: lots}\n", 8, "value: want a number, got lots"},
		{"negative tolerance", head + "  - id: a\n    kind: number\n    prompt: P\n    explanation: E\n    answer: {value: 3, tolerance: -1}\n", 8, "tolerance must be 0 or more"},
		{"text without accepted", head + "  - {id: a, kind: text, prompt: P, explanation: E, accepted: [\"  \"]}\n", 4, "needs accepted"},
		{"freetier missing input", head + "  - {id: a, kind: freetier, prompt: P, explanation: E, compute: even-split-hours, inputs: [instances]}\n", 4, `needs "month"`},
		{"freetier foreign input", head + "  - {id: a, kind: freetier, prompt: P, explanation: E, compute: month-hours, inputs: [month, credits]}\n", 4, `input "credits" is not used`},
		{"freetier bad given", head + "  - {id: a, kind: freetier, prompt: P, explanation: E, compute: billed-hours, given: {instances: -2, month: 2027-02}}\n", 4, "given values: instances"},
		{"freetier bad given month", head + "  - {id: a, kind: freetier, prompt: P, explanation: E, compute: even-split-hours, inputs: [instances], given: {month: soon}}\n", 4, "given month"},
		{"freetier both input and given", head + "  - {id: a, kind: freetier, prompt: P, explanation: E, compute: month-hours, inputs: [month], given: {month: 2027-01}}\n", 4, "both an input and given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := Parse([]byte(tt.yaml), "quiz.yaml")
			for _, p := range problems {
				if p.Line == tt.line && strings.Contains(p.Message, tt.msg) {
					return
				}
			}
			t.Errorf("want a problem at line %d containing %q; got %v", tt.line, tt.msg, problems)
		})
	}
}

func TestParseReadsFields(t *testing.T) {
	fsys := fstest.MapFS{"q.yaml": {Data: []byte(`id: q
title: Quiz
questions:
  - id: n
    kind: number
    prompt: How many?
    answer: {value: 8.56, tolerance: 0.01, unit: USD}
    explanation: Because.
  - id: f
    kind: freetier
    prompt: Hours each?
    compute: even-split-hours
    inputs: [instances]
    given: {month: 2027-02}
    tolerance: 0.5
    explanation: 750 / N.
`)}}
	q, problems := Load(fsys, "q.yaml")
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if q.PassMark != DefaultPassMark {
		t.Errorf("pass mark %v", q.PassMark)
	}
	n := q.Question("n")
	if n == nil || n.Answer == nil || *n.Answer != (NumberAnswer{Value: 8.56, Tolerance: 0.01, Unit: "USD"}) || n.Line != 4 {
		t.Errorf("number question %+v", n)
	}
	f := q.Question("f")
	if f == nil || f.Compute != "even-split-hours" || f.Given["month"] != "2027-02" || f.Tolerance != 0.5 || len(f.Inputs) != 1 {
		t.Errorf("freetier question %+v", f)
	}
	if q.Question("missing") != nil {
		t.Error("found a missing question")
	}
	if _, problems := Load(fsys, "nope.yaml"); len(problems) != 1 {
		t.Errorf("missing file: %v", problems)
	}
}

func TestProblemString(t *testing.T) {
	if got := (Problem{File: "a/quiz.yaml", Line: 7, Message: "m"}).String(); got != "a/quiz.yaml:7: m" {
		t.Error(got)
	}
	if got := (Problem{File: "a/quiz.yaml", Message: "m"}).String(); got != "a/quiz.yaml: m" {
		t.Error(got)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"publish-port.yaml", "bonus.yaml", "broken.yaml"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("questions:\n  - <<: {id: a}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		q, problems := Parse(data, "quiz.yaml")
		if q == nil && len(problems) == 0 {
			t.Fatal("nil quiz without a problem")
		}
		if q != nil {
			_ = q.Public()
			_ = Score(q, map[string][]string{"a": {"1"}})
		}
	})
}
