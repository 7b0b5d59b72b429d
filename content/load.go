package content

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/coursekit/workshop/quiz"
	"github.com/yuin/goldmark"
	"gopkg.in/yaml.v3"
)

// Options configure loading a course.
type Options struct {
	// Values substituted for {{server_url}}, {{lab_repo_url}},
	// {{lab_tarball_url}} and {{lab_dir}}; empty ones get defaults derived
	// from ServerURL (see Options.Values).
	ServerURL     string
	LabRepoURL    string
	LabTarballURL string
	LabDir        string
	// KnownChecks reports whether a grader check id exists; nil skips
	// validating the check ids pages declare.
	KnownChecks func(id string) bool
	// ParseQuiz parses quiz files; nil means quiz.Parse.
	ParseQuiz QuizParser
}

// Paths the server publishes the lab under, relative to its URL.
const (
	LabRepoPath    = "/lab/workshop-lab.git"
	LabTarballPath = "/lab/workshop-lab.tar.gz"
)

// valueNames are the {{placeholders}} content may use.
var valueNames = []string{"server_url", "lab_repo_url", "lab_tarball_url", "lab_dir"}

// Values returns the substituted values, with defaults for empty ones.
func (o Options) Values() map[string]string {
	server := strings.TrimRight(o.ServerURL, "/")
	if server == "" {
		server = "http://localhost:8080"
	}
	v := map[string]string{
		"server_url":      server,
		"lab_repo_url":    o.LabRepoURL,
		"lab_tarball_url": o.LabTarballURL,
		"lab_dir":         o.LabDir,
	}
	def := map[string]string{
		"lab_repo_url":    server + LabRepoPath,
		"lab_tarball_url": server + LabTarballPath,
		"lab_dir":         "workshop-lab",
	}
	for k, d := range def {
		if v[k] == "" {
			v[k] = d
		}
	}
	for k, s := range v {
		// A value never adds a line: problems keep their line numbers.
		v[k] = strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
	}
	return v
}

// courseFile is course.yaml.
type courseFile struct {
	Title    string `yaml:"title"`
	Summary  string `yaml:"summary"`
	Variants []struct {
		ID      string `yaml:"id"`
		Title   string `yaml:"title"`
		Summary string `yaml:"summary"`
	} `yaml:"variants"`
	Steps  []string `yaml:"steps"`
	Topics []string `yaml:"topics"`
	Bonus  []string `yaml:"bonus"`
}

// conceptsSections are the pages the concepts variant tells as its own
// sections after the nine steps (the guide's sections 8 to 10).
var conceptsSections = []struct {
	kind Kind
	id   string
}{{KindTopic, "docker-networking"}, {KindTopic, "multi-stage-builds"}, {KindBonus, "free-tier-instances"}}

var (
	idRE      = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	stepDirRE = regexp.MustCompile(`^(\d+)-(.+)$`)
)

// loader carries the state of one Load.
type loader struct {
	fsys     fs.FS
	base     string // directory of course.yaml inside fsys
	opts     Options
	values   map[string]string
	md       goldmark.Markdown
	problems Problems
	course   *Course
	rendered map[*Page]*renderedPage
	quizzes  map[string]*quiz.Quiz // by file; nil when not YAML
}

func (l *loader) problem(file string, line int, format string, args ...any) {
	l.problems = append(l.problems, Problem{File: file, Line: line, Message: fmt.Sprintf(format, args...)})
}

func (l *loader) path(elem ...string) string {
	return path.Join(append([]string{l.base}, elem...)...)
}

// Load reads, renders and validates the course in fsys: either fsys holds
// course/course.yaml (the layout of DefaultFS), or course.yaml at its root.
// When the content is invalid the error is a Problems list.
func Load(fsys fs.FS, opts Options) (*Course, error) {
	l := &loader{fsys: fsys, base: "course", opts: opts, values: opts.Values(), md: newMarkdown(),
		rendered: map[*Page]*renderedPage{}, quizzes: map[string]*quiz.Quiz{}}
	if opts.ParseQuiz == nil {
		l.opts.ParseQuiz = quiz.Parse
	}
	if _, err := fs.Stat(fsys, "course/course.yaml"); err != nil {
		if _, err2 := fs.Stat(fsys, "course.yaml"); err2 == nil {
			l.base = "."
		}
	}
	cf := l.readCourseFile()
	if cf == nil {
		return nil, l.problems
	}
	l.course = &Course{Title: cf.Title, Summary: cf.Summary, pages: map[pageKey]*Page{},
		nav: map[string][]*Link{}, Quizzes: map[string]*quiz.Quiz{}}
	for _, v := range cf.Variants {
		l.course.Variants = append(l.course.Variants, Variant{ID: v.ID, Title: v.Title, Summary: v.Summary})
	}
	l.loadSteps(cf)
	l.course.Topics = l.loadSection(KindTopic, "topics", cf.Topics)
	l.course.Bonus = l.loadSection(KindBonus, "bonus", cf.Bonus)
	l.checkLinks()
	l.buildNav()
	if len(l.problems) > 0 {
		sort.SliceStable(l.problems, func(i, j int) bool {
			a, b := l.problems[i], l.problems[j]
			if a.File != b.File {
				return a.File < b.File
			}
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Message < b.Message
		})
		return nil, l.problems
	}
	return l.course, nil
}

// readCourseFile parses and checks course.yaml.
func (l *loader) readCourseFile() *courseFile {
	file := l.path("course.yaml")
	data, err := fs.ReadFile(l.fsys, file)
	if err != nil {
		l.problem(file, 0, "cannot read the course description: %v", unwrapPathError(err))
		return nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line, msg := yamlError(err)
		l.problem(file, line, "invalid YAML: %s", msg)
		return nil
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		l.problem(file, 1, "expected a mapping with title, summary, variants, steps, topics, bonus")
		return nil
	}
	m := root.Content[0]
	l.unknownKeys(file, "", m, "title", "summary", "variants", "steps", "topics", "bonus")
	var cf courseFile
	if err := m.Decode(&cf); err != nil {
		line, msg := yamlError(err)
		l.problem(file, line, "%s", msg)
		return nil
	}
	if cf.Title == "" {
		l.problem(file, 1, "title is missing")
	}
	if len(cf.Variants) == 0 {
		l.problem(file, 1, "no variants")
	}
	seen := map[string]string{}
	claim := func(kind, id string, line int) {
		if !idRE.MatchString(id) {
			l.problem(file, line, "%s id %q: use lowercase letters, digits and dashes", kind, id)
		}
		if prev, dup := seen[id]; dup {
			l.problem(file, line, "duplicate id %q (already a %s)", id, prev)
		}
		seen[id] = kind
	}
	for i, v := range cf.Variants {
		claim("variant", v.ID, itemLine(m, "variants", i))
		if v.Title == "" {
			l.problem(file, itemLine(m, "variants", i), "variant %q has no title", v.ID)
		}
	}
	seen = map[string]string{}
	for i, id := range cf.Steps {
		claim("step", id, itemLine(m, "steps", i))
	}
	for i, id := range cf.Topics {
		claim("topic", id, itemLine(m, "topics", i))
	}
	for i, id := range cf.Bonus {
		claim("bonus page", id, itemLine(m, "bonus", i))
	}
	return &cf
}

// loadSteps loads every step page of every variant, in course order.
func (l *loader) loadSteps(cf *courseFile) {
	dirs := map[string]string{} // step id -> folder name
	entries, err := fs.ReadDir(l.fsys, l.path("steps"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		l.problem(l.path("steps"), 0, "cannot read: %v", unwrapPathError(err))
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		m := stepDirRE.FindStringSubmatch(e.Name())
		if m == nil {
			l.problem(l.path("steps", e.Name()), 0, "a step folder is named NN-<step id>")
			continue
		}
		id := m[2]
		if prev, dup := dirs[id]; dup {
			l.problem(l.path("steps", e.Name()), 0, "duplicate step id %q (also in %s)", id, prev)
			continue
		}
		dirs[id] = e.Name()
		pos := slices.Index(cf.Steps, id)
		if pos < 0 {
			l.problem(l.path("steps", e.Name()), 0, "step %q is not listed in course.yaml", id)
			continue
		}
		if want := fmt.Sprintf("%02d", pos+1); m[1] != want {
			l.problem(l.path("steps", e.Name()), 0, "step %q is number %d in course.yaml: name the folder %s-%s", id, pos+1, want, id)
		}
	}
	for i, id := range cf.Steps {
		dir, ok := dirs[id]
		if !ok {
			l.problem(l.path("course.yaml"), 0, "step %q has no folder steps/%02d-%s", id, i+1, id)
			continue
		}
		step := Step{ID: id, Number: i + 1, Pages: map[string]*Page{}}
		for _, v := range l.course.Variants {
			p := l.loadPage(KindStep, id, v.ID, l.path("steps", dir, v.ID+".md"))
			if p == nil {
				continue
			}
			p.Number = i + 1
			step.Pages[v.ID] = p
			l.course.pages[pageKey{KindStep, v.ID, id}] = p
		}
		l.course.Steps = append(l.course.Steps, step)
	}
}

// loadSection loads the topic or bonus pages, one folder each.
func (l *loader) loadSection(kind Kind, dir string, ids []string) []*Page {
	entries, _ := fs.ReadDir(l.fsys, l.path(dir))
	for _, e := range entries {
		if e.IsDir() && !slices.Contains(ids, e.Name()) {
			l.problem(l.path(dir, e.Name()), 0, "%s %q is not listed in course.yaml", kind, e.Name())
		}
	}
	var pages []*Page
	for _, id := range ids {
		p := l.loadPage(kind, id, "", l.path(dir, id, "page.md"))
		if p == nil {
			continue
		}
		pages = append(pages, p)
		l.course.pages[pageKey{kind, "", id}] = p
	}
	return pages
}

// unwrapPathError drops the path from an fs error: problems name the file.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// yamlError splits a yaml.v3 error into a line and a message.
func yamlError(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	line := 0
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		_, _ = fmt.Sscan(m[1], &line)
		msg = strings.TrimLeft(yamlLineRE.ReplaceAllString(msg, ""), ": ")
		// yaml.v3 reports a parser error at its context's line counted
		// from 0 (scanner errors are counted from 1): this points at the
		// line where the unfinished construct starts.
		if strings.HasPrefix(msg, "did not find expected") {
			line++
		}
	}
	return line, msg
}

// unknownKeys reports keys of a mapping node that are not allowed.
func (l *loader) unknownKeys(file, prefix string, m *yaml.Node, allowed ...string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if !slices.Contains(allowed, k.Value) {
			l.problem(file, k.Line, "%sunknown key %q (allowed: %s)", prefix, k.Value, strings.Join(allowed, ", "))
		}
	}
}

// valueNode returns the value of key in a mapping node.
func valueNode(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// itemLine returns the line of the i-th item of the sequence under key.
func itemLine(m *yaml.Node, key string, i int) int {
	v := valueNode(m, key)
	if v == nil {
		return m.Line
	}
	if i < len(v.Content) {
		return v.Content[i].Line
	}
	return v.Line
}
