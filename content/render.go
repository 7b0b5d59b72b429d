package content

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"regexp"
	"strings"

	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"go.abhg.dev/goldmark/frontmatter"
	"gopkg.in/yaml.v3"
)

// renderedPage is the result of rendering one markdown file.
type renderedPage struct {
	meta     *yaml.Node // the frontmatter's mapping, nil when missing or invalid
	html     template.HTML
	etag     string
	headings []Heading
	ids      map[string]bool // every heading id: the page's anchors
	links    []linkRef
	problems []Problem
}

// linkRef is a link destination found in a page, with its line.
type linkRef struct {
	dest string
	line int
}

// renderPage substitutes configured values into src, renders it and reports
// what is wrong with it that can be seen without the rest of the course.
func renderPage(md goldmark.Markdown, file string, src []byte, values map[string]string) *renderedPage {
	r := &renderedPage{ids: map[string]bool{}}
	lines := newLineIndex(src)
	problem := func(line int, format string, args ...any) {
		r.problems = append(r.problems, Problem{File: file, Line: line, Message: fmt.Sprintf(format, args...)})
	}

	substituted, unknown := substituteValues(src, values)
	for _, u := range unknown {
		problem(lines.line(u.offset), "unknown placeholder {{%s}} (known: %s)", u.name, strings.Join(valueNames, ", "))
	}
	// Substitution and hiding placeholders never add or remove a newline,
	// so line numbers computed on the final source are those of the file.
	source := hidePlaceholders(substituted)
	lines = newLineIndex(source)

	ctx := parser.NewContext()
	doc := md.Parser().Parse(text.NewReader(source), parser.WithContext(ctx))

	r.meta = decodeFrontmatter(ctx, source, func(line int, msg string) { problem(line, "frontmatter: %s", msg) })
	r.inspect(doc, source, lines, problem)

	var buf bytes.Buffer
	if err := md.Renderer().Render(&buf, source, doc); err != nil {
		problem(0, "render: %v", err)
		return r
	}
	r.html = sanitizeHTML(showPlaceholders(dropNewlineErrors(buf.Bytes())))
	sum := sha256.Sum256([]byte(r.html))
	r.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	return r
}

// dropNewlineErrors unwraps the error tokens some chroma lexers (dockerfile)
// emit for the newline at the end of each line, which the dark and light
// styles would paint as a red block.
func dropNewlineErrors(b []byte) []byte {
	return bytes.ReplaceAll(b, []byte("<span class=\"err\">\n</span>"), []byte("\n"))
}

// yamlLineRE finds the line number in a yaml.v3 error message.
var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// decodeFrontmatter returns the frontmatter as a YAML mapping node whose
// lines are lines of the file (the opening --- is line 1).
func decodeFrontmatter(ctx parser.Context, source []byte, problem func(line int, msg string)) *yaml.Node {
	data := frontmatter.Get(ctx)
	if data == nil {
		problem(1, "missing: a page starts with a YAML block between --- lines")
		return nil
	}
	if !hasClosingDelimiter(source) {
		problem(1, "no closing --- line")
		return nil
	}
	var doc yaml.Node
	if err := data.Decode(&doc); err != nil {
		line, msg := yamlError(err)
		problem(line+1, "invalid YAML: "+msg)
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		problem(2, "expected a mapping of keys (id, title, ...)")
		return nil
	}
	shiftLines(doc.Content[0], 1)
	return doc.Content[0]
}

func hasClosingDelimiter(source []byte) bool {
	first := true
	for _, l := range bytes.Split(source, []byte("\n")) {
		l = bytes.TrimRight(l, " \t\r")
		if first {
			first = false
			continue
		}
		if bytes.Equal(l, []byte("---")) || bytes.Equal(l, []byte("+++")) {
			return true
		}
	}
	return false
}

func shiftLines(n *yaml.Node, by int) {
	n.Line += by
	for _, c := range n.Content {
		shiftLines(c, by)
	}
}

// inspect walks the document once: headings for the table of contents,
// link destinations, and code blocks without a known language.
func (r *renderedPage) inspect(doc ast.Node, source []byte, lines lineIndex, problem func(int, string, ...any)) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			id, _ := n.AttributeString("id")
			idStr := ""
			if b, ok := id.([]byte); ok {
				idStr = string(b)
			}
			idStr = restoreName(idStr)
			if idStr != "" {
				n.SetAttributeString("id", []byte(idStr))
				r.ids[idStr] = true
				r.headings = append(r.headings, Heading{Level: n.Level, ID: idStr, Text: restorePlaceholders(plainText(n, source))})
			}
		case *ast.Link:
			r.links = append(r.links, linkRef{dest: string(n.Destination), line: nodeLine(n, lines)})
		case *ast.FencedCodeBlock:
			line := nodeLine(n, lines)
			lang := n.Language(source)
			switch {
			case lang == nil:
				problem(line, "code block without a language (use text for plain output)")
			case lexers.Get(string(lang)) == nil:
				problem(line, "code block language %q is unknown to the highlighter", lang)
			}
		case *ast.RawHTML, *ast.HTMLBlock:
			// Never rendered (goldmark's unsafe mode is off): say so rather
			// than let text such as <none> vanish from the page.
			problem(nodeLine(n, lines), "raw HTML is not rendered: put it in backticks, or write markdown")
			return ast.WalkSkipChildren, nil
		case *ast.CodeBlock:
			problem(nodeLine(n, lines), "indented code block: use a fenced block with a language")
		}
		return ast.WalkContinue, nil
	})
}

// restoreName turns sentinels in an id back into the placeholder's bare name.
func restoreName(s string) string {
	return sentinelRE.ReplaceAllStringFunc(s, func(m string) string { return sentinelName([]byte(m)) })
}

// nodeLine returns the source line of a node: its own position, or that of
// its first text, or that of its nearest ancestor that knows.
func nodeLine(n ast.Node, lines lineIndex) int {
	if fc, ok := n.(*ast.FencedCodeBlock); ok && fc.Info != nil {
		return lines.line(fc.Info.Segment.Start)
	}
	if b, ok := n.(interface{ Lines() *text.Segments }); ok && n.Type() == ast.TypeBlock && b.Lines().Len() > 0 {
		l := lines.line(b.Lines().At(0).Start)
		if _, fenced := n.(*ast.FencedCodeBlock); fenced && l > 1 {
			l-- // the opening fence is the line before the first line of code
		}
		return l
	}
	if p := n.Pos(); p >= 0 {
		return lines.line(p)
	}
	for c := n.FirstChild(); c != nil; c = c.FirstChild() {
		if t, ok := c.(*ast.Text); ok {
			return lines.line(t.Segment.Start)
		}
	}
	if n.Parent() != nil {
		return nodeLine(n.Parent(), lines)
	}
	return 0
}

// plainText concatenates the text of a node's descendants.
func plainText(n ast.Node, source []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := c.(type) {
		case *ast.Text:
			b.Write(t.Value(source))
			if t.SoftLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(t.Value)
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}
