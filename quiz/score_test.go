package quiz

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

func load(t testing.TB, name string) *Quiz {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	q, problems := Parse(data, name)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	return q
}

func TestScoreQuestions(t *testing.T) {
	q := load(t, "publish-port.yaml")
	tests := []struct {
		name     string
		id       string
		values   []string
		correct  bool
		message  string   // substring, "" for none
		feedback []string // option ids with feedback shown
	}{
		{"single right", "loopback-bind", []string{"b"}, true, "", nil},
		{"single wrong with feedback", "loopback-bind", []string{"a"}, false, "", []string{"a"}},
		{"single two answers", "loopback-bind", []string{"a", "b"}, false, "choose one option", nil},
		{"single unknown option", "loopback-bind", []string{"z"}, false, `unknown option "z"`, nil},
		{"single not answered", "loopback-bind", nil, false, "not answered", nil},
		{"single blank", "loopback-bind", []string{"  "}, false, "not answered", nil},
		{"multiple exact set", "lost-on-rm", []string{"logs", "files"}, true, "", nil},
		{"multiple partial is wrong", "lost-on-rm", []string{"files"}, false, "", nil},
		{"multiple extra wrong option", "lost-on-rm", []string{"files", "logs", "image"}, false, "", []string{"image"}},
		{"multiple repeated values", "lost-on-rm", []string{"files", "files", "logs"}, true, "", nil},
		{"text exact", "flag", []string{"--rm"}, true, "", nil},
		{"text variant in backticks", "flag", []string{" `rm` "}, true, "", nil},
		{"text case-sensitive", "flag", []string{"--RM"}, false, "", nil},
		{"text wrong", "flag", []string{"-d"}, false, "", nil},
		{"text overlong", "flag", []string{strings.Repeat("x", 500)}, false, "too long", nil},
		{"number exact", "billed-hours", []string{"738"}, true, "", nil},
		{"number with unit", "billed-hours", []string{"738 hours"}, true, "", nil},
		{"number off by one", "billed-hours", []string{"737"}, false, "", nil},
		{"number not a number", "billed-hours", []string{"lots"}, false, "not a number", nil},
		{"number two values", "billed-hours", []string{"738", "738"}, false, "give one number", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Score(q, map[string][]string{tt.id: tt.values})
			var r QuestionResult
			for _, qr := range a.Questions {
				if qr.ID == tt.id {
					r = qr
				}
			}
			if r.Correct != tt.correct {
				t.Errorf("Correct = %v, want %v (%+v)", r.Correct, tt.correct, r)
			}
			if (tt.message == "") != (r.Message == "") || !strings.Contains(r.Message, tt.message) {
				t.Errorf("Message = %q, want %q", r.Message, tt.message)
			}
			var fb []string
			for _, f := range r.Feedback {
				fb = append(fb, f.Option)
			}
			if !reflect.DeepEqual(fb, tt.feedback) {
				t.Errorf("feedback for %v, want %v", fb, tt.feedback)
			}
			if r.Explanation == "" || r.Answer == "" {
				t.Errorf("no explanation or answer: %+v", r)
			}
		})
	}
}

func TestScoreTotals(t *testing.T) {
	q := load(t, "publish-port.yaml")
	tests := []struct {
		answers map[string][]string
		score   float64
		passed  bool
	}{
		{map[string][]string{}, 0, false},
		{map[string][]string{"loopback-bind": {"b"}, "lost-on-rm": {"files", "logs"}, "flag": {"--rm"}, "billed-hours": {"738"}}, 1, true},
		{map[string][]string{"loopback-bind": {"b"}, "lost-on-rm": {"files"}, "flag": {"--rm"}, "billed-hours": {"738"}}, 0.75, true},
		{map[string][]string{"loopback-bind": {"b"}, "flag": {"--rm"}, "unknown-question": {"x"}}, 0.5, false},
	}
	for _, tt := range tests {
		a := Score(q, tt.answers)
		if a.Score != tt.score || a.Passed != tt.passed || a.Total != 4 || a.QuizID != "publish-port" {
			t.Errorf("%v: score %v passed %v total %d, want %v %v 4", tt.answers, a.Score, a.Passed, a.Total, tt.score, tt.passed)
		}
	}
	if a := Score(q, tests[2].answers); a.PassedAt(0.8) {
		t.Error("0.75 passes a cohort's 0.8")
	}
	if a := Score(nil, nil); a.Total != 0 || a.Passed {
		t.Errorf("nil quiz: %+v", a)
	}
}

func TestScoreFreetier(t *testing.T) {
	q := load(t, "bonus.yaml")
	tests := []struct {
		name    string
		answers map[string][]string
		id      string
		correct bool
		answer  string
		message string
	}{
		{"3 instances share 750 h", map[string][]string{"even-split": {"250"}, "even-split.instances": {"3"}, "even-split.month": {"2027-02"}},
			"even-split", true, "250 (± 0.5) hours", ""},
		{"within tolerance", map[string][]string{"even-split": {"107.5"}, "even-split.instances": {"7"}, "even-split.month": {"2027-01"}},
			"even-split", true, "107.14 (± 0.5) hours", ""},
		{"1 instance is capped at the month", map[string][]string{"even-split": {"744"}, "even-split.instances": {"1"}, "even-split.month": {"2027-01"}},
			"even-split", true, "744 (± 0.5) hours", ""},
		{"750 is wrong for one instance in a 31-day month", map[string][]string{"even-split": {"750"}, "even-split.instances": {"1"}, "even-split.month": {"2027-01"}},
			"even-split", false, "744 (± 0.5) hours", ""},
		{"bad input count", map[string][]string{"even-split": {"250"}, "even-split.instances": {"-3"}, "even-split.month": {"2027-02"}},
			"even-split", false, "", "instances: must be a whole number, 1 or more"},
		{"missing input", map[string][]string{"even-split": {"250"}, "even-split.month": {"2027-02"}},
			"even-split", false, "", "instances: enter a value"},
		{"bad month", map[string][]string{"even-split": {"250"}, "even-split.instances": {"3"}, "even-split.month": {"Feb"}},
			"even-split", false, "", "month: want a month as YYYY-MM"},
		{"given inputs", map[string][]string{"feb-billed": {"594"}}, "feb-billed", true, "594 hours", ""},
		{"given inputs, wrong", map[string][]string{"feb-billed": {"738"}}, "feb-billed", false, "594 hours", ""},
		{"answer shown even when unanswered", map[string][]string{"all-month.month": {"2027-02"}}, "all-month", false, "1 instances", "not answered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r QuestionResult
			for _, qr := range Score(q, tt.answers).Questions {
				if qr.ID == tt.id {
					r = qr
				}
			}
			if r.Correct != tt.correct || r.Answer != tt.answer || !strings.Contains(r.Message, tt.message) || (tt.message == "") != (r.Message == "") {
				t.Errorf("got correct %v answer %q message %q; want %v %q %q", r.Correct, r.Answer, r.Message, tt.correct, tt.answer, tt.message)
			}
		})
	}
}

func TestComputations(t *testing.T) {
	tests := []struct {
		name   string
		inputs map[string]string
		want   float64
	}{
		{"even-split-hours", map[string]string{"instances": "2", "month": "2026-12"}, 375},
		{"all-month-instances", map[string]string{"month": "2027-02"}, 1},
		{"month-hours", map[string]string{"month": "2028-02"}, 696},
		{"billed-hours", map[string]string{"instances": "2", "month": "2025-12"}, 738},
		{"billed-hours", map[string]string{"instances": "3", "month": "2025-12", "hours": "300"}, 150},
		{"monthly-cost-usd", map[string]string{"instances": "2", "month": "2025-12"}, 8.56},
		{"monthly-cost-usd", map[string]string{"instances": "1", "month": "2026-01", "plan": "credits", "type": "t3.micro", "hours": "730", "ipv4": "yes"}, 11.24},
		{"credit-days", map[string]string{"month": "2026-01", "ipv4": "yes"}, 270.5},
	}
	for _, tt := range tests {
		got, err := compute(tt.name, tt.inputs)
		if err != nil || got != tt.want {
			t.Errorf("compute(%s, %v) = %v, %v; want %v", tt.name, tt.inputs, got, err, tt.want)
		}
	}
	if _, err := compute("credit-days", map[string]string{"month": "2026-01", "hours": "0"}); err == nil {
		t.Error("credit-days with no spending gave a number")
	}
}

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"738", 738, true}, {" 738 h ", 738, true}, {"$8.56", 8.56, true}, {"8,56", 8.56, true},
		{"1,488", 1488, true}, {"1,488.5", 1488.5, true}, {"~375 hours", 375, true}, {"-2", -2, true},
		{"1e3", 1000, true}, {"US$ 3.65", 3.65, true}, {"15.6 days", 15.6, true},
		{"", 0, false}, {"lots", 0, false}, {"NaN", 0, false}, {"Inf", 0, false}, {"1e999", 0, false}, {"1.2.3", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseNumber(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("ParseNumber(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// TestPublicHasNoAnswers checks that nothing in the public view gives
// an answer away, whatever the template does with it.
func TestPublicHasNoAnswers(t *testing.T) {
	for _, name := range []string{"publish-port.yaml", "bonus.yaml"} {
		q := load(t, name)
		data, err := json.Marshal(q.Public())
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		var secrets []string
		for _, question := range q.Questions {
			secrets = append(secrets, question.Explanation)
			secrets = append(secrets, question.Accepted...)
			for _, o := range question.Options {
				if o.Feedback != "" {
					secrets = append(secrets, o.Feedback)
				}
			}
		}
		for _, s := range secrets {
			if len(s) < 6 {
				s = `"` + s + `"` // short: only as a whole JSON string
			}
			if strings.Contains(text, s) {
				t.Errorf("%s: public view contains %q", name, s)
			}
		}
		for _, field := range []string{`"correct"`, `"explanation"`, `"feedback"`, `"accepted"`, `"answer"`, `"value":738`, `"compute"`} {
			if strings.Contains(text, field) {
				t.Errorf("%s: public view has %s", name, field)
			}
		}
	}
	pub := load(t, "bonus.yaml").Public()
	if len(pub.Questions[0].Inputs) != 2 || pub.Questions[1].Given[0].Name != "instances" || pub.Questions[1].Given[1].Value != "2027-02" {
		t.Errorf("freetier inputs: %+v", pub.Questions[:2])
	}
	if u := load(t, "publish-port.yaml").Public().Questions[3].Unit; u != "hours" {
		t.Errorf("number unit %q", u)
	}
}

func FuzzScore(f *testing.F) {
	quizzes := []*Quiz{load(f, "publish-port.yaml"), load(f, "bonus.yaml")}
	broken, _ := Parse([]byte("id: x\ntitle: X\nquestions:\n  - {id: a, kind: single, prompt: P, explanation: E}\n  - {id: b, kind: number, prompt: P, explanation: E}\n  - {id: c, kind: freetier, prompt: P, explanation: E, compute: nope, inputs: [month]}\n"), "x.yaml")
	quizzes = append(quizzes, broken)
	f.Add("loopback-bind", "b", "even-split.instances", "3")
	f.Add("billed-hours", "1,488.5 h", "even-split.month", "2027-02")
	f.Add("even-split", "\xff\xfe", "even-split.instances", "99999999999999999999")
	f.Add("flag", strings.Repeat("é", 300), "all-month.month", "0000-00")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		answers := map[string][]string{k1: {v1, v2}, k2: {v2}, "even-split": {v1}, "c.month": {v2}, "c": {v1}}
		for _, q := range quizzes {
			a := Score(q, answers)
			if a.Score < 0 || a.Score > 1 || len(a.Questions) != len(q.Questions) {
				t.Fatalf("bad attempt %+v", a)
			}
		}
	})
}
