package content

import (
	"html/template"
	"regexp"

	"github.com/microcosm-cc/bluemonday"
)

// policy is bluemonday's user-generated-content policy plus exactly what
// this package's markdown extensions emit: highlighting classes, callouts,
// code-block wrappers with their copy button, heading ids, task lists.
var policy = newPolicy()

func newPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^[a-zA-Z0-9_ -]+$`)).
		OnElements("span", "div", "pre", "code", "aside", "p", "button")
	p.AllowAttrs("id").Matching(regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)).
		OnElements("h1", "h2", "h3", "h4", "h5", "h6")
	p.AllowAttrs("data-lang").Matching(regexp.MustCompile(`^[a-zA-Z0-9_+#.-]*$`)).OnElements("div")
	p.AllowAttrs("tabindex").Matching(regexp.MustCompile(`^0$`)).OnElements("pre")
	p.AllowAttrs("role").Matching(regexp.MustCompile(`^note$`)).OnElements("aside")
	p.AllowElements("aside", "button")
	p.AllowAttrs("type").Matching(regexp.MustCompile(`^button$`)).OnElements("button")
	p.AllowAttrs("hidden").Matching(regexp.MustCompile(`^$`)).OnElements("button")
	p.AllowAttrs("aria-label", "aria-hidden").OnElements("button", "span", "aside", "div")
	// GFM task lists: disabled checkboxes.
	p.AllowAttrs("type").Matching(regexp.MustCompile(`^checkbox$`)).OnElements("input")
	p.AllowAttrs("checked", "disabled").Matching(regexp.MustCompile(`^$`)).OnElements("input")
	// GFM tables align cells with a style; allow only text-align.
	p.AllowStyles("text-align").MatchingEnum("left", "center", "right").OnElements("th", "td")
	// Links stay as written: the course links to its own pages and to
	// documentation; nofollow is pointless on an instructor's own content.
	p.RequireNoFollowOnLinks(false)
	return p
}

// sanitizeHTML is the one function that turns rendered markdown into
// template.HTML: nothing reaches a template as HTML without passing here.
func sanitizeHTML(rendered []byte) template.HTML {
	return template.HTML(policy.SanitizeBytes(rendered)) //nolint:gosec // sanitized just here
}
