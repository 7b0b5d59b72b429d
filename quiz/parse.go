package quiz

import (
	"fmt"
	"io/fs"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	questionID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	optionID   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)
	yamlLine   = regexp.MustCompile(`line (\d+)`)
)

// Fields each mapping may hold; question fields depend on the kind.
var (
	quizFields     = []string{"id", "title", "pass_mark", "questions"}
	optionFields   = []string{"id", "text", "correct", "feedback"}
	answerFields   = []string{"value", "tolerance", "unit"}
	commonFields   = []string{"id", "kind", "prompt", "explanation"}
	questionFields = map[Kind][]string{
		KindSingle:   {"options"},
		KindMultiple: {"options"},
		KindNumber:   {"answer"},
		KindText:     {"accepted", "case_sensitive"},
		KindFreetier: {"compute", "inputs", "given", "unit", "tolerance"},
	}
)

// Load reads and parses a quiz file from fsys.
func Load(fsys fs.FS, name string) (*Quiz, []Problem) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, []Problem{{File: name, Message: err.Error()}}
	}
	return Parse(data, name)
}

// Parse reads a quiz file (format in the package documentation). file
// names it in the problems. The quiz is nil only when data is not YAML;
// otherwise it is returned with whatever could be read, and any problem
// means it must not be served.
func Parse(data []byte, file string) (*Quiz, []Problem) {
	p := &parser{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line := 0
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = strings.TrimPrefix(yamlLine.ReplaceAllString(msg, ""), ": ")
		p.add(line, "not valid YAML: %s", msg)
		return nil, p.problems
	}
	q := &Quiz{File: file, PassMark: DefaultPassMark}
	if len(doc.Content) == 0 {
		p.add(0, "the file is empty")
		return q, p.problems
	}
	root := doc.Content[0]
	fields := p.mapping(root, "the quiz", quizFields)
	if fields == nil {
		return q, p.problems
	}
	p.str(fields, root, "id", &q.ID, true)
	p.str(fields, root, "title", &q.Title, true)
	if n, ok := fields["pass_mark"]; ok {
		if p.decode(n, &q.PassMark) && (q.PassMark <= 0 || q.PassMark > 1 || math.IsNaN(q.PassMark)) {
			p.add(n.Line, "pass_mark must be more than 0 and at most 1, e.g. 0.75")
		}
	}
	if q.ID != "" && !questionID.MatchString(q.ID) {
		p.add(fields["id"].Line, "id %q: use a-z, 0-9, \"-\" and \"_\"", q.ID)
	}
	qs, ok := fields["questions"]
	switch {
	case !ok:
		p.add(root.Line, "no questions: add a questions list")
	case qs.Kind != yaml.SequenceNode:
		p.add(p.line(qs), "questions must be a list")
	case len(qs.Content) == 0:
		p.add(p.line(qs), "questions is empty")
	default:
		seen := map[string]int{}
		for _, n := range qs.Content {
			question, ok := p.question(n)
			if !ok {
				continue
			}
			if prev, dup := seen[question.ID]; dup && question.ID != "" {
				p.add(n.Line, "duplicate question id %q (first on line %d)", question.ID, prev)
			} else {
				seen[question.ID] = n.Line
			}
			q.Questions = append(q.Questions, question)
		}
	}
	sort.SliceStable(p.problems, func(i, j int) bool { return p.problems[i].Line < p.problems[j].Line })
	return q, p.problems
}

type parser struct {
	file     string
	problems []Problem
	keys     map[*yaml.Node]*yaml.Node // value node -> its key
}

// line is where a field starts: its key's line, which for a block list
// or mapping is more useful than the line of its first item.
func (p *parser) line(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	if k, ok := p.keys[n]; ok {
		return k.Line
	}
	return n.Line
}

func (p *parser) add(line int, format string, args ...any) {
	p.problems = append(p.problems, Problem{File: p.file, Line: line, Message: fmt.Sprintf(format, args...)})
}

// mapping checks that n is a mapping with only allowed, unrepeated keys,
// and returns its values by key (nil if n is not a mapping).
func (p *parser) mapping(n *yaml.Node, what string, allowed []string) map[string]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		p.add(n.Line, "%s must be a mapping of field: value", what)
		return nil
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		// An alias stands for its anchor's value (nested no deeper than
		// this walker goes, so self-reference cannot loop).
		for depth := 0; v.Kind == yaml.AliasNode && v.Alias != nil && depth < 8; depth++ {
			v = v.Alias
		}
		switch {
		case !contains(allowed, k.Value):
			p.add(k.Line, "unknown field %q in %s (allowed: %s)", k.Value, what, strings.Join(allowed, ", "))
		case out[k.Value] != nil:
			p.add(k.Line, "field %q repeated in %s", k.Value, what)
		default:
			out[k.Value] = v
			if p.keys == nil {
				p.keys = map[*yaml.Node]*yaml.Node{}
			}
			p.keys[v] = k
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// decode decodes n into v, reporting a type error at n's line.
func (p *parser) decode(n *yaml.Node, v any) bool {
	if err := n.Decode(v); err != nil {
		want := map[string]string{"*float64": "a number", "*bool": "true or false", "*string": "text",
			"*[]string": "a list of text, e.g. [a, b]", "*map[string]string": "a mapping, e.g. {month: 2027-02}"}[fmt.Sprintf("%T", v)]
		if want == "" {
			want = "another type of value"
		}
		field := "value"
		if k, ok := p.keys[n]; ok {
			field = k.Value
		}
		got := n.Value
		if n.Kind != yaml.ScalarNode {
			got = map[yaml.Kind]string{yaml.SequenceNode: "a list", yaml.MappingNode: "a mapping"}[n.Kind]
		}
		p.add(n.Line, "%s: want %s, got %s", field, want, cut(got, 40))
		return false
	}
	return true
}

// str reads a string field; required fields must be present and non-blank.
func (p *parser) str(fields map[string]*yaml.Node, parent *yaml.Node, name string, dst *string, required bool) {
	n, ok := fields[name]
	if ok && n.Kind != yaml.ScalarNode {
		p.add(n.Line, "%s: want text, got %s", name, map[yaml.Kind]string{yaml.SequenceNode: "a list", yaml.MappingNode: "a mapping"}[n.Kind])
		return
	}
	if ok {
		p.decode(n, dst)
		*dst = strings.TrimSpace(*dst)
	}
	if required && *dst == "" {
		line := parent.Line
		if ok {
			line = n.Line
		}
		p.add(line, "%s is missing or empty", name)
	}
}

// question reads one question; ok is false when it is not a mapping.
func (p *parser) question(n *yaml.Node) (Question, bool) {
	q := Question{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		p.add(n.Line, "a question must be a mapping of field: value")
		return q, false
	}
	// Read the kind first: it decides which fields are allowed.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "kind" {
			q.Kind = Kind(strings.TrimSpace(n.Content[i+1].Value))
		}
	}
	extra, known := questionFields[q.Kind]
	what := fmt.Sprintf("question (kind %s)", q.Kind)
	if !known {
		what = "question"
		for _, k := range []Kind{KindSingle, KindNumber, KindText, KindFreetier} {
			extra = append(extra, questionFields[k]...)
		}
	}
	fields := p.mapping(n, what, append(append([]string{}, commonFields...), extra...))
	p.str(fields, n, "id", &q.ID, true)
	if q.ID != "" && !questionID.MatchString(q.ID) {
		p.add(fields["id"].Line, "question id %q: use a-z, 0-9, \"-\" and \"_\", starting with a letter or digit", q.ID)
	}
	p.str(fields, n, "prompt", &q.Prompt, true)
	p.str(fields, n, "explanation", &q.Explanation, true)
	switch {
	case fields["kind"] == nil:
		p.add(n.Line, "kind is missing: single, multiple, number, text or freetier")
	case !known:
		p.add(fields["kind"].Line, "unknown kind %q: single, multiple, number, text or freetier", q.Kind)
	}
	switch q.Kind {
	case KindSingle, KindMultiple:
		p.options(&q, fields, n)
	case KindNumber:
		p.number(&q, fields, n)
	case KindText:
		p.text(&q, fields, n)
	case KindFreetier:
		p.freetier(&q, fields, n)
	}
	return q, true
}

func (p *parser) options(q *Question, fields map[string]*yaml.Node, n *yaml.Node) {
	list, ok := fields["options"]
	if !ok || list.Kind != yaml.SequenceNode || len(list.Content) < 2 {
		line := n.Line
		if ok {
			line = p.line(list)
		}
		p.add(line, "a %s question needs an options list with at least two options", q.Kind)
		if !ok || list.Kind != yaml.SequenceNode {
			return
		}
	}
	seen := map[string]bool{}
	correct := 0
	for _, on := range list.Content {
		f := p.mapping(on, "option", optionFields)
		if f == nil {
			continue
		}
		var o Option
		p.str(f, on, "id", &o.ID, true)
		p.str(f, on, "text", &o.Text, true)
		p.str(f, on, "feedback", &o.Feedback, false)
		if c, ok := f["correct"]; ok {
			p.decode(c, &o.Correct)
		}
		if o.ID != "" && !optionID.MatchString(o.ID) {
			p.add(on.Line, "option id %q: use letters, digits, \"-\" and \"_\"", o.ID)
		}
		if seen[o.ID] && o.ID != "" {
			p.add(on.Line, "duplicate option id %q", o.ID)
		}
		seen[o.ID] = true
		if o.Correct {
			correct++
		}
		q.Options = append(q.Options, o)
	}
	switch {
	case correct == 0:
		p.add(p.line(list), "no correct answer: mark an option with correct: true")
	case q.Kind == KindSingle && correct > 1:
		p.add(p.line(list), "a single question has exactly one correct option; this one has %d (use kind multiple?)", correct)
	}
}

func (p *parser) number(q *Question, fields map[string]*yaml.Node, n *yaml.Node) {
	an, ok := fields["answer"]
	if !ok {
		p.add(n.Line, "no correct answer: a number question needs answer: {value: ...}")
		return
	}
	f := p.mapping(an, "answer", answerFields)
	if f == nil {
		return
	}
	q.Answer = &NumberAnswer{}
	vn, ok := f["value"]
	if !ok {
		p.add(p.line(an), "no correct answer: answer has no value")
	} else if p.decode(vn, &q.Answer.Value) && !finite(q.Answer.Value) {
		p.add(vn.Line, "value must be a finite number")
	}
	if tn, ok := f["tolerance"]; ok && p.decode(tn, &q.Answer.Tolerance) && !(q.Answer.Tolerance >= 0 && finite(q.Answer.Tolerance)) {
		p.add(tn.Line, "tolerance must be 0 or more")
	}
	p.str(f, an, "unit", &q.Answer.Unit, false)
}

func (p *parser) text(q *Question, fields map[string]*yaml.Node, n *yaml.Node) {
	an, ok := fields["accepted"]
	if ok {
		p.decode(an, &q.Accepted)
	}
	nonEmpty := 0
	for _, a := range q.Accepted {
		if normalize(a, true) != "" {
			nonEmpty++
		}
	}
	if nonEmpty == 0 {
		line := n.Line
		if ok {
			line = p.line(an)
		}
		p.add(line, "no correct answer: a text question needs accepted: [at least one answer]")
	}
	if cs, ok := fields["case_sensitive"]; ok {
		p.decode(cs, &q.CaseSensitive)
	}
}

func (p *parser) freetier(q *Question, fields map[string]*yaml.Node, n *yaml.Node) {
	before := len(p.problems)
	p.str(fields, n, "compute", &q.Compute, false)
	p.str(fields, n, "unit", &q.Unit, false)
	if in, ok := fields["inputs"]; ok {
		p.decode(in, &q.Inputs)
	}
	if g, ok := fields["given"]; ok {
		p.decode(g, &q.Given)
	}
	if t, ok := fields["tolerance"]; ok && p.decode(t, &q.Tolerance) && !(q.Tolerance >= 0 && finite(q.Tolerance)) {
		p.add(t.Line, "tolerance must be 0 or more")
	}
	c, ok := Computations[q.Compute]
	if !ok {
		line := n.Line
		if f := fields["compute"]; f != nil {
			line = f.Line
		}
		p.add(line, "no correct answer: compute must name a computation: %s", strings.Join(ComputationNames(), ", "))
		return
	}
	have := map[string]bool{}
	for _, in := range q.Inputs {
		if !c.uses(in) {
			p.add(p.line(fields["inputs"]), "input %q is not used by %s (it uses %s)", in, q.Compute, strings.Join(append(append([]string{}, c.Required...), c.Optional...), ", "))
		}
		if have[in] {
			p.add(p.line(fields["inputs"]), "input %q listed twice", in)
		}
		have[in] = true
	}
	for in := range q.Given {
		if !c.uses(in) {
			p.add(p.line(fields["given"]), "given %q is not used by %s", in, q.Compute)
		}
		if have[in] {
			p.add(p.line(fields["given"]), "%q is both an input and given", in)
		}
		have[in] = true
	}
	for _, in := range c.Required {
		if !have[in] {
			p.add(n.Line, "%s needs %q: list it in inputs or set it in given", q.Compute, in)
		}
	}
	if len(q.Inputs) == 0 && len(p.problems) == before {
		// Fully given: compute once now, so a bad value is found at load.
		if _, err := compute(q.Compute, q.Given); err != nil {
			p.add(p.line(fields["given"]), "given values: %v", err)
		}
	} else if len(p.problems) == before {
		for in, v := range q.Given {
			if Inputs[in].Type == "month" {
				if _, err := compute("month-hours", map[string]string{"month": v}); err != nil {
					p.add(p.line(fields["given"]), "given month: %v", err)
				}
			}
		}
	}
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
