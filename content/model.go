// Package content is the course model: the course description, the guide's
// steps in each variant, the advanced topics and the bonus page, loaded from
// markdown files with YAML frontmatter in an fs.FS (the embedded default
// course, or a directory an instructor points at). Every page is rendered once
// at load with goldmark into sanitized HTML and validated: invalid content is
// reported as Problems with file and line, and never served.
package content

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/coursekit/workshop/quiz"
)

// Kind says which section of the course a page belongs to.
type Kind string

// The kinds of pages.
const (
	KindStep  Kind = "step"
	KindTopic Kind = "topic"
	KindBonus Kind = "bonus"
)

// Variant is one way of telling the guide, e.g. "guided" or "concepts".
type Variant struct {
	ID      string
	Title   string
	Summary string
}

// Heading is an entry of a page's table of contents.
type Heading struct {
	Level int
	ID    string
	Text  string
}

// Link points at a page: used for navigation (previous / next) and menus.
type Link struct {
	Kind    Kind
	Variant string // empty for topics and bonus pages
	ID      string
	Title   string
	URL     string
}

// Page is one rendered page: a step in one variant, a topic or a bonus page.
type Page struct {
	Kind    Kind
	ID      string
	Title   string
	Variant string // empty for topics and bonus pages
	Summary string
	Checks  []string
	QuizID  string
	// Number is the step's position in the guide (1-based), 0 for other pages.
	Number   int
	HTML     template.HTML
	Headings []Heading
	// ETag is a strong entity tag (quoted) derived from the rendered HTML.
	ETag string
	// Prev and Next are the neighbours in a variant's navigation, keyed by
	// variant id. A step page has entries for its own variant only; a topic
	// or bonus page has entries for the variants that list it.
	Prev map[string]*Link
	Next map[string]*Link
	// File is the page's source file, relative to the content root.
	File string
}

// Link returns a link to the page.
func (p *Page) Link() *Link {
	return &Link{Kind: p.Kind, Variant: p.Variant, ID: p.ID, Title: p.Title, URL: PageURL(p.Kind, p.Variant, p.ID)}
}

// Step is one step of the guide with its page in each variant.
type Step struct {
	ID     string
	Number int
	// Pages maps a variant id to the step's page in that variant.
	Pages map[string]*Page
}

// Course is the whole loaded, rendered and validated course.
type Course struct {
	Title    string
	Summary  string
	Variants []Variant
	Steps    []Step
	Topics   []*Page
	Bonus    []*Page
	// Quizzes holds every page's quiz, keyed by quiz id (the page's id).
	Quizzes map[string]*quiz.Quiz

	pages map[pageKey]*Page
	nav   map[string][]*Link
}

type pageKey struct {
	kind    Kind
	variant string
	id      string
}

// Page returns the page of the given kind, variant and id. The variant is
// ignored for topics and bonus pages, which are the same in every variant.
func (c *Course) Page(kind Kind, variant, id string) (*Page, bool) {
	if kind != KindStep {
		variant = ""
	}
	p, ok := c.pages[pageKey{kind, variant, id}]
	return p, ok
}

// Variant returns the variant with the given id.
func (c *Course) Variant(id string) (Variant, bool) {
	for _, v := range c.Variants {
		if v.ID == id {
			return v, true
		}
	}
	return Variant{}, false
}

// Nav returns a variant's navigation in reading order: the steps, then the
// topic and bonus pages that variant tells as sections of its own.
func (c *Course) Nav(variant string) []*Link {
	return c.nav[variant]
}

// Pages returns every page of the course: steps in order and variant order,
// then topics, then bonus pages.
func (c *Course) Pages() []*Page {
	var out []*Page
	for _, s := range c.Steps {
		for _, v := range c.Variants {
			if p := s.Pages[v.ID]; p != nil {
				out = append(out, p)
			}
		}
	}
	out = append(out, c.Topics...)
	return append(out, c.Bonus...)
}

// PageURL returns the path a page is served at.
func PageURL(kind Kind, variant, id string) string {
	switch kind {
	case KindTopic:
		return "/topics/" + id
	case KindBonus:
		return "/bonus/" + id
	default:
		return "/guide/" + variant + "/" + id
	}
}

// Problem is one thing wrong with the content, at a file and line.
type Problem struct {
	File    string
	Line    int // 0 when the problem concerns the whole file
	Message string
}

// String formats the problem as file:line: message.
func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Message)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Message)
}

// Problems is the error Load returns for invalid content.
type Problems []Problem

// Error lists every problem, one a line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return "content: invalid course:\n" + strings.Join(lines, "\n")
}
