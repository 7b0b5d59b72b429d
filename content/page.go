package content

import (
	"errors"
	"io/fs"
	"net/url"
	"path"
	"strings"

	"gopkg.in/yaml.v3"
)

// pageMeta is a page's frontmatter.
type pageMeta struct {
	ID      string   `yaml:"id"`
	Title   string   `yaml:"title"`
	Variant string   `yaml:"variant"`
	Checks  []string `yaml:"checks"`
	Quiz    string   `yaml:"quiz"`
	Summary string   `yaml:"summary"`
}

// loadPage reads, renders and checks one page; nil when it cannot be used.
func (l *loader) loadPage(kind Kind, id, variant, file string) *Page {
	src, err := fs.ReadFile(l.fsys, file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if kind == KindStep {
				l.problem(file, 0, "page missing: step %q has no page for variant %q", id, variant)
			} else {
				l.problem(file, 0, "page missing: %s %q", kind, id)
			}
		} else {
			l.problem(file, 0, "cannot read: %v", unwrapPathError(err))
		}
		return nil
	}
	r := renderPage(l.md, file, src, l.values)
	l.problems = append(l.problems, r.problems...)
	p := &Page{Kind: kind, ID: id, Variant: variant, File: file, HTML: r.html, ETag: r.etag,
		Headings: r.headings, Prev: map[string]*Link{}, Next: map[string]*Link{}}
	l.rendered[p] = r
	if r.meta != nil {
		l.applyMeta(p, r.meta)
	}
	return p
}

// applyMeta checks the frontmatter against the page's place in the course
// and copies it into the page.
func (l *loader) applyMeta(p *Page, m *yaml.Node) {
	file := p.File
	l.unknownKeys(file, "frontmatter: ", m, "id", "title", "variant", "checks", "quiz", "summary")
	var meta pageMeta
	if err := m.Decode(&meta); err != nil {
		line, msg := yamlError(err)
		l.problem(file, line, "frontmatter: %s", msg)
		return
	}
	line := func(key string) int {
		if v := valueNode(m, key); v != nil {
			return v.Line
		}
		return 1
	}
	switch {
	case meta.ID == "":
		l.problem(file, 1, "frontmatter: id is missing (want %q)", p.ID)
	case meta.ID != p.ID:
		l.problem(file, line("id"), "frontmatter: id %q does not match its folder (want %q)", meta.ID, p.ID)
	}
	if meta.Title == "" {
		l.problem(file, 1, "frontmatter: title is missing")
	}
	switch {
	case p.Kind == KindStep && meta.Variant != p.Variant:
		l.problem(file, line("variant"), "frontmatter: variant %q does not match the file name (want %q)", meta.Variant, p.Variant)
	case p.Kind != KindStep && meta.Variant != "":
		l.problem(file, line("variant"), "frontmatter: a %s page is the same in every variant: remove variant", p.Kind)
	}
	if l.opts.KnownChecks != nil {
		checks := valueNode(m, "checks")
		for i, c := range meta.Checks {
			if !l.opts.KnownChecks(c) {
				l.problem(file, checks.Content[i].Line, "frontmatter: unknown check id %q", c)
			}
		}
	}
	p.Title = restorePlaceholders(meta.Title)
	p.Summary = restorePlaceholders(meta.Summary)
	p.Checks = meta.Checks
	if p.Checks == nil {
		p.Checks = []string{}
	}
	p.QuizID = meta.Quiz
	if meta.Quiz == "" {
		l.problem(file, 1, "frontmatter: quiz is missing (want %q, the id in quiz.yaml beside the page)", p.ID)
		return
	}
	l.loadQuiz(p, line("quiz"))
}

// loadQuiz parses the quiz file beside a page (once per folder) and checks
// that its id is the one the page declares.
func (l *loader) loadQuiz(p *Page, line int) {
	file := path.Join(path.Dir(p.File), "quiz.yaml")
	q, ok := l.quizzes[file]
	if !ok {
		data, err := fs.ReadFile(l.fsys, file)
		if err != nil {
			l.problem(p.File, line, "frontmatter: quiz %q: cannot read %s: %v", p.QuizID, path.Base(file), unwrapPathError(err))
			return
		}
		parsed, problems := l.opts.ParseQuiz(data, file)
		l.problems = append(l.problems, quizProblems(problems)...)
		if parsed == nil {
			// Not YAML: the parser said so; no id to compare.
			l.quizzes[file] = nil
			return
		}
		if parsed.ID != p.ID {
			l.problem(file, idLine(data), "quiz id %q does not match its folder (want %q)", parsed.ID, p.ID)
		}
		q = parsed
		l.quizzes[file] = q
		if q.ID != "" {
			l.course.Quizzes[q.ID] = q
		}
	}
	if q == nil {
		return
	}
	if q.ID != p.QuizID {
		l.problem(p.File, line, "frontmatter: quiz %q does not match the id in %s (%q)", p.QuizID, path.Base(file), q.ID)
	}
}

// checkLinks resolves every internal link and anchor of every page.
func (l *loader) checkLinks() {
	server := l.values["server_url"]
	for p, r := range l.rendered {
		for _, link := range r.links {
			dest := link.dest
			if server != "" && strings.HasPrefix(dest, server+"/") {
				dest = strings.TrimPrefix(dest, server)
			}
			if msg := l.resolve(r, dest); msg != "" {
				l.problem(p.File, link.line, "link %s: %s", link.dest, msg)
			}
		}
	}
}

// resolve returns what is wrong with a link destination, or "".
func (l *loader) resolve(r *renderedPage, dest string) string {
	u, err := url.Parse(dest)
	if err != nil {
		return "not a valid URL"
	}
	if u.Scheme != "" || u.Host != "" {
		switch u.Scheme {
		case "http", "https", "mailto":
			return ""
		}
		return "scheme " + u.Scheme + " is not allowed"
	}
	if u.Path == "" {
		if u.Fragment != "" && !r.ids[u.Fragment] {
			return "no heading with id #" + u.Fragment + " on this page"
		}
		return ""
	}
	if !strings.HasPrefix(u.Path, "/") {
		return "relative link: write the page's path from the site root (/guide/<variant>/<id>, /topics/<id>, ...)"
	}
	parts := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	var target *Page
	switch {
	case u.Path == "/" || u.Path == "/freetier" || u.Path == LabRepoPath || u.Path == LabTarballPath:
		if u.Fragment != "" {
			return "anchors into " + u.Path + " cannot be checked: link the page without #"
		}
		return ""
	case len(parts) == 2 && parts[0] == "guide":
		if _, ok := l.course.Variant(parts[1]); !ok {
			return "unknown variant " + parts[1]
		}
		return ""
	case len(parts) == 3 && parts[0] == "guide":
		if _, ok := l.course.Variant(parts[1]); !ok {
			return "unknown variant " + parts[1]
		}
		target, _ = l.course.Page(KindStep, parts[1], parts[2])
	case len(parts) == 2 && parts[0] == "topics":
		target, _ = l.course.Page(KindTopic, "", parts[1])
	case len(parts) == 2 && parts[0] == "bonus":
		target, _ = l.course.Page(KindBonus, "", parts[1])
	default:
		return "no such page (internal pages: /guide/<variant>/<id>, /topics/<id>, /bonus/<id>, /freetier, " + LabRepoPath + ", " + LabTarballPath + ")"
	}
	if target == nil {
		return "no such page"
	}
	if u.Fragment != "" && !l.rendered[target].ids[u.Fragment] {
		return "no heading with id #" + u.Fragment + " on " + target.File
	}
	return ""
}

// buildNav links each variant's pages in reading order.
func (l *loader) buildNav() {
	c := l.course
	for _, v := range c.Variants {
		var pages []*Page
		for _, s := range c.Steps {
			if p := s.Pages[v.ID]; p != nil {
				pages = append(pages, p)
			}
		}
		if v.ID == "concepts" {
			for _, s := range conceptsSections {
				if p, ok := c.Page(s.kind, "", s.id); ok {
					pages = append(pages, p)
				}
			}
		}
		links := make([]*Link, len(pages))
		for i, p := range pages {
			links[i] = p.Link()
		}
		for i, p := range pages {
			if i > 0 {
				p.Prev[v.ID] = links[i-1]
			}
			if i+1 < len(pages) {
				p.Next[v.ID] = links[i+1]
			}
		}
		c.nav[v.ID] = links
	}
}

// idLine returns the line of a YAML file's top-level id key, or 1.
func idLine(data []byte) int {
	for i, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "id:") {
			return i + 1
		}
	}
	return 1
}
