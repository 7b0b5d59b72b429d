package content

import (
	"bytes"
	"encoding/hex"
	"html"
	"regexp"
	"strings"

	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/styles"
	"github.com/yuin/goldmark"
	highlighting "github.com/yuin/goldmark-highlighting/v2"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
	"go.abhg.dev/goldmark/frontmatter"
)

// Chroma styles of the highlighted code, for light and dark color schemes.
const (
	lightStyle = "github"
	darkStyle  = "github-dark"
)

// newMarkdown returns the one goldmark configuration every page is rendered
// with: GFM, YAML frontmatter, heading ids, chroma highlighting with CSS
// classes, callouts and code blocks wrapped for a copy button.
func newMarkdown() goldmark.Markdown {
	return goldmark.New(
		goldmark.WithExtensions(
			extension.GFM,
			&frontmatter.Extender{},
			highlighting.NewHighlighting(
				highlighting.WithStyle(lightStyle),
				highlighting.WithFormatOptions(chromahtml.WithClasses(true)),
				highlighting.WithWrapperRenderer(codeBlockWrapper),
			),
		),
		goldmark.WithParserOptions(
			parser.WithAutoHeadingID(),
			parser.WithASTTransformers(util.Prioritized(calloutTransformer{}, 500)),
		),
		goldmark.WithRendererOptions(
			renderer.WithNodeRenderers(util.Prioritized(calloutRenderer{}, 500)),
		),
	)
}

// codeBlockWrapper wraps every fenced code block in a div that names its
// language and carries a hidden copy button the page's script reveals.
func codeBlockWrapper(w util.BufWriter, c highlighting.CodeBlockContext, entering bool) {
	if entering {
		lang, _ := c.Language()
		_, _ = w.WriteString(`<div class="code-block" data-lang="` + htmlEscape(string(lang)) + `">`)
		if !c.Highlighted() {
			_, _ = w.WriteString(`<pre class="chroma"><code>`)
		}
		return
	}
	if !c.Highlighted() {
		_, _ = w.WriteString("</code></pre>")
	}
	_, _ = w.WriteString(`<button type="button" class="copy" hidden>Copy</button></div>` + "\n")
}

func htmlEscape(s string) string { return html.EscapeString(s) }

// HighlightCSS returns the stylesheet for highlighted code: the light style,
// and the dark style inside a prefers-color-scheme: dark media query.
func HighlightCSS() []byte {
	f := chromahtml.New(chromahtml.WithClasses(true))
	var b bytes.Buffer
	b.WriteString("/* Code highlighting (chroma " + lightStyle + " / " + darkStyle + "). */\n")
	_ = f.WriteCSS(&b, styles.Get(lightStyle))
	b.WriteString("@media (prefers-color-scheme: dark) {\n")
	_ = f.WriteCSS(&b, styles.Get(darkStyle))
	b.WriteString("}\n")
	return b.Bytes()
}

// Placeholders such as <image_id> in commands are replaced before parsing by
// a sentinel made of letters and digits only, so no lexer splits them and no
// markdown rule sees HTML; after rendering, each sentinel becomes a
// placeholder span in text and the bare name inside attributes (heading ids).
var (
	placeholderRE = regexp.MustCompile(`<([a-z][a-z0-9]*(?:_[a-z0-9]+)+)>`)
	sentinelRE    = regexp.MustCompile(`zqph([0-9a-f]+)qz`)
)

func hidePlaceholders(src []byte) []byte {
	return placeholderRE.ReplaceAllFunc(src, func(m []byte) []byte {
		name := m[1 : len(m)-1]
		return []byte("zqph" + hex.EncodeToString(name) + "qz")
	})
}

func sentinelName(m []byte) string {
	name, err := hex.DecodeString(string(sentinelRE.FindSubmatch(m)[1]))
	if err != nil {
		return ""
	}
	return string(name)
}

// restorePlaceholders turns sentinels back into "<name>" in plain text.
func restorePlaceholders(s string) string {
	return sentinelRE.ReplaceAllStringFunc(s, func(m string) string {
		return "<" + sentinelName([]byte(m)) + ">"
	})
}

// showPlaceholders rewrites the rendered HTML's sentinels: a placeholder
// span in text, the bare name in tags (attribute values).
func showPlaceholders(rendered []byte) []byte {
	if !sentinelRE.Match(rendered) {
		return rendered
	}
	var out bytes.Buffer
	rest := rendered
	for len(rest) > 0 {
		// Split at tags: a '<' in rendered HTML always opens markup, since
		// text is escaped. Inside a tag, '>' can only close it (attribute
		// values are escaped too).
		i := bytes.IndexByte(rest, '<')
		if i < 0 {
			i = len(rest)
		}
		out.Write(sentinelRE.ReplaceAllFunc(rest[:i], func(m []byte) []byte {
			return []byte(`<span class="placeholder">&lt;` + htmlEscape(sentinelName(m)) + `&gt;</span>`)
		}))
		rest = rest[i:]
		if len(rest) == 0 {
			break
		}
		j := bytes.IndexByte(rest, '>')
		if j < 0 {
			j = len(rest) - 1
		}
		out.Write(sentinelRE.ReplaceAllFunc(rest[:j+1], func(m []byte) []byte {
			return []byte(htmlEscape(sentinelName(m)))
		}))
		rest = rest[j+1:]
	}
	return out.Bytes()
}

// Configured values such as {{server_url}} are substituted into the markdown
// before it is parsed. Only identifiers are placeholders: Go template
// actions in docker commands ({{.State.Status}}, {{json .Config}}) are not.
var valueRE = regexp.MustCompile(`\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}`)

// Go template keywords that look like identifiers inside {{ }}.
var templateKeywords = map[string]bool{
	"end": true, "else": true, "range": true, "if": true, "with": true, "block": true,
	"define": true, "template": true, "break": true, "continue": true, "nil": true,
}

// substituteValues replaces every {{name}} with its value and reports the
// byte offsets of names it does not know.
func substituteValues(src []byte, values map[string]string) (out []byte, unknown []valueRef) {
	var b bytes.Buffer
	last := 0
	for _, m := range valueRE.FindAllSubmatchIndex(src, -1) {
		name := string(src[m[2]:m[3]])
		if templateKeywords[name] {
			continue
		}
		v, ok := values[name]
		if !ok {
			unknown = append(unknown, valueRef{name: name, offset: m[0]})
			continue
		}
		b.Write(src[last:m[0]])
		b.WriteString(v)
		last = m[1]
	}
	b.Write(src[last:])
	return b.Bytes(), unknown
}

type valueRef struct {
	name   string
	offset int
}

// lineIndex maps byte offsets of a source to 1-based line numbers.
type lineIndex []int

func newLineIndex(src []byte) lineIndex {
	idx := lineIndex{0}
	for i, c := range src {
		if c == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

// line returns the line of the byte offset, or 0 for a negative offset.
func (idx lineIndex) line(offset int) int {
	if offset < 0 {
		return 0
	}
	lo, hi := 0, len(idx)
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if idx[mid] <= offset {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo + 1
}

func trimSpaceLower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
