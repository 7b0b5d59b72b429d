package content

import (
	"bytes"
	"html/template"
	"strings"
	"sync"

	"github.com/yuin/goldmark"
)

var (
	snippetOnce sync.Once
	snippetMD   goldmark.Markdown
)

// RenderMarkdown renders a short piece of course markdown (a quiz prompt,
// an option, an explanation) the same way as pages, through the one
// sanitizer. Inline pieces lose their surrounding paragraph.
func RenderMarkdown(md string, inline bool) template.HTML {
	snippetOnce.Do(func() { snippetMD = newMarkdown() })
	var buf bytes.Buffer
	if err := snippetMD.Convert(hidePlaceholders([]byte(md)), &buf); err != nil {
		return template.HTML(template.HTMLEscapeString(md)) //nolint:gosec // escaped
	}
	out := showPlaceholders(dropNewlineErrors(buf.Bytes()))
	if inline {
		s := strings.TrimSpace(string(out))
		if strings.HasPrefix(s, "<p>") && strings.HasSuffix(s, "</p>") && strings.Count(s, "<p>") == 1 {
			out = []byte(s[3 : len(s)-4])
		}
	}
	return sanitizeHTML(out)
}
