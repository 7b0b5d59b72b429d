package content

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func loadFixture(t *testing.T, opts Options) *Course {
	t.Helper()
	c, err := Load(os.DirFS("testdata/valid"), opts)
	if err != nil {
		t.Fatalf("load testdata/valid: %v", err)
	}
	return c
}

func TestRenderFeatures(t *testing.T) {
	c := loadFixture(t, Options{ServerURL: "http://course.example:8080/"})
	p, ok := c.Page(KindStep, "guided", "first")
	if !ok {
		t.Fatal("page guided/first missing")
	}
	html := string(p.HTML)
	tests := []struct {
		name string
		want string
	}{
		{"value substituted in text", `Clone from <a href="http://course.example:8080/lab/workshop-lab.git">http://course.example:8080/lab/workshop-lab.git</a> into <code>workshop-lab</code>`},
		{"value substituted in link", `href="http://course.example:8080/lab/workshop-lab.tar.gz"`},
		{"value substituted in code", "git clone http://course.example:8080/lab/workshop-lab.git workshop-lab"},
		{"docker template action kept", "{{.State.Status}}"},
		{"heading anchor", `<h2 id="build-the-image">Build the image</h2>`},
		{"code block wrapper", `<div class="code-block" data-lang="bash"><pre class="chroma"><code>`},
		{"copy button", `<button type="button" class="copy" hidden="">Copy</button></div>`},
		{"highlighting classes", `<span class="kn">import</span>`},
		{"placeholder in code block", `docker run -it <span class="placeholder">&lt;image_id&gt;</span> sh`},
		{"placeholder in URL", `http://<span class="placeholder">&lt;host_ip&gt;</span>:8000/`},
		{"placeholder inside a string token", `<span class="s2">&#34;<span class="placeholder">&lt;your_ip&gt;</span>&#34;</span>`},
		{"placeholder in inline code", `<code>docker stop <span class="placeholder">&lt;container_id&gt;</span></code>`},
		{"note callout", "<aside class=\"callout callout-note\" role=\"note\">\n<p class=\"callout-title\">Note</p>\n<p>Placeholders are shown <strong>as</strong> placeholders.</p>\n<p>A second paragraph.</p>\n</aside>"},
		{"warning callout", "<aside class=\"callout callout-warning\" role=\"note\">\n<p class=\"callout-title\">Warning</p>\n<p>Never open SSH to the world.</p>\n</aside>"},
		{"tip callout", `<aside class="callout callout-tip" role="note">`},
		{"plain blockquote", "<blockquote>\n<p>A plain quote.</p>\n</blockquote>"},
		{"table", `<th style="text-align: left">Flag</th>`},
		{"task list", `<input checked="" disabled="" type="checkbox"> done`},
		{"autolink", `<a href="https://docs.docker.com/">https://docs.docker.com/</a>`},
		{"plain text output keeps angle brackets", "&lt;none&gt;       &lt;none&gt; 1a2b3c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(html, tt.want) {
				t.Errorf("HTML lacks %q\n%s", tt.want, html)
			}
		})
	}
	for _, bad := range []string{"<script", "alert(", "zqph", `class="err"`, "[!NOTE]", "raw HTML omitted"} {
		if strings.Contains(html, bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
	if got := p.Headings; len(got) != 1 || got[0] != (Heading{Level: 2, ID: "build-the-image", Text: "Build the image"}) {
		t.Errorf("headings = %+v", got)
	}
	if p.Title != "The first step" || p.Summary != "Clone and build." || p.QuizID != "first" ||
		len(p.Checks) != 1 || p.Checks[0] != "docker-reachable" || p.Number != 1 {
		t.Errorf("page fields = %+v", p)
	}
	if !strings.HasPrefix(p.ETag, `"`) || len(p.ETag) < 10 {
		t.Errorf("ETag = %q", p.ETag)
	}
	if other, _ := c.Page(KindStep, "guided", "second"); other.ETag == p.ETag {
		t.Error("two different pages have the same ETag")
	}
}

func TestSanitizeStripsScript(t *testing.T) {
	tests := []struct{ in, mustNot, must string }{
		{`<p>hi</p><script>alert(1)</script>`, "<script", "<p>hi</p>"},
		{`<img src="x" onerror="alert(1)">`, "onerror", "<img"},
		{`<a href="javascript:alert(1)">x</a>`, "javascript:", "x"},
		{`<aside class="callout callout-note" role="note" onclick="x()">n</aside>`, "onclick", `<aside class="callout callout-note" role="note">`},
		{`<button type="submit" class="copy" hidden>Copy</button>`, "submit", `class="copy"`},
		{`<div class="code-block" data-lang="bash" style="color:red">c</div>`, "style", `data-lang="bash"`},
	}
	for _, tt := range tests {
		got := string(sanitizeHTML([]byte(tt.in)))
		if strings.Contains(got, tt.mustNot) || !strings.Contains(got, tt.must) {
			t.Errorf("sanitizeHTML(%q) = %q, want no %q and %q", tt.in, got, tt.mustNot, tt.must)
		}
	}

	// A script in a page never reaches its HTML, nor one in a configured value.
	dir := copyFixture(t)
	page := filepath.Join(dir, "course", "steps", "02-second", "guided.md")
	src, _ := os.ReadFile(page)
	src = append(src, []byte("\n<script>alert('page')</script>\n\nInline <script>alert('inline')</script> too.\n")...)
	if err := os.WriteFile(page, src, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(os.DirFS(dir), Options{})
	if err == nil || !strings.Contains(err.Error(), "guided.md:18: raw HTML is not rendered") ||
		!strings.Contains(err.Error(), "guided.md:20: raw HTML is not rendered") {
		t.Errorf("raw HTML in a page is not reported: %v", err)
	}
	r := renderPage(newMarkdown(), "guided.md", src, Options{}.Values())
	if strings.Contains(string(r.html), "<script") {
		t.Errorf("script survived:\n%s", r.html)
	}

	// Nor does one in a configured value.
	c, err := Load(os.DirFS("testdata/valid"), Options{LabDir: `x<script>alert('value')</script>`})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Pages() {
		if strings.Contains(string(p.HTML), "<script") {
			t.Errorf("%s: script survived:\n%s", p.File, p.HTML)
		}
	}
}

func TestNavigation(t *testing.T) {
	c := loadFixture(t, Options{})
	nav := func(variant string) []string {
		var ids []string
		for _, l := range c.Nav(variant) {
			ids = append(ids, string(l.Kind)+":"+l.ID)
		}
		return ids
	}
	if got, want := strings.Join(nav("guided"), " "), "step:first step:second"; got != want {
		t.Errorf("guided nav = %s, want %s", got, want)
	}
	if got, want := strings.Join(nav("concepts"), " "), "step:first step:second topic:docker-networking bonus:free-tier-instances"; got != want {
		t.Errorf("concepts nav = %s, want %s", got, want)
	}
	second, _ := c.Page(KindStep, "concepts", "second")
	if second.Prev["concepts"].URL != "/guide/concepts/first" || second.Next["concepts"].URL != "/topics/docker-networking" {
		t.Errorf("concepts/second prev/next = %+v %+v", second.Prev["concepts"], second.Next["concepts"])
	}
	if g, _ := c.Page(KindStep, "guided", "second"); g.Next["guided"] != nil {
		t.Errorf("guided/second has a next page: %+v", g.Next["guided"])
	}
	topic, _ := c.Page(KindTopic, "guided", "docker-networking") // variant ignored
	if topic == nil || topic.Prev["concepts"].ID != "second" || topic.Next["concepts"].Kind != KindBonus {
		t.Errorf("topic navigation = %+v", topic)
	}
	// Switching variant keeps the step: every step has a page in every variant.
	for _, s := range c.Steps {
		for _, v := range c.Variants {
			p, ok := c.Page(KindStep, v.ID, s.ID)
			if !ok || p.ID != s.ID || p.Variant != v.ID || p.Number != s.Number {
				t.Errorf("step %s has no page in variant %s", s.ID, v.ID)
			}
		}
	}
}

// TestProblems checks that every mistake in testdata/broken is reported
// with its file and line.
func TestProblems(t *testing.T) {
	known := func(id string) bool { return id == "docker-reachable" }
	got := CheckWith("testdata/broken", Options{KnownChecks: known})
	var lines []string
	for _, p := range got {
		lines = append(lines, p.String())
	}
	all := strings.Join(lines, "\n")
	d := filepath.Join("testdata", "broken", "course")
	want := []string{
		d + "/course.yaml:14: unknown key \"extra\"",
		d + "/course.yaml: step \"gamma\" has no folder steps/03-gamma",
		d + "/steps/01-alpha/guided.md:3: frontmatter: invalid YAML",
		d + "/steps/01-alpha/concepts.md:2: frontmatter: id \"alfa\" does not match its folder",
		d + "/steps/01-alpha/concepts.md:5: frontmatter: unknown check id \"foo\"",
		d + "/steps/01-alpha/concepts.md:7: frontmatter: unknown key \"colour\"",
		d + "/steps/01-alpha/quiz.yaml:5: quiz: unknown kind \"essay\"",
		d + "/steps/01-alpha/concepts.md:12: code block without a language",
		d + "/steps/01-alpha/concepts.md:16: code block language \"klingon\" is unknown",
		d + "/steps/01-alpha/concepts.md:20: unknown placeholder {{server_ur}}",
		d + "/steps/01-alpha/concepts.md:22: link /guide/concepts/nope: no such page",
		d + "/steps/01-alpha/concepts.md:22: link #nowhere: no heading with id #nowhere",
		d + "/steps/01-alpha/concepts.md:23: link beta: relative link",
		d + "/steps/01-alpha/concepts.md:23: link /guide/guided/beta#no-such-heading: no heading",
		d + "/steps/01-alpha/concepts.md:24: link /admin: no such page",
		d + "/steps/02-beta/concepts.md: page missing: step \"beta\" has no page for variant \"concepts\"",
		d + "/steps/02-beta/guided.md:6: frontmatter: quiz \"beta\" does not match the id in quiz.yaml",
		d + "/steps/02-beta/quiz.yaml:1: quiz id \"bet\" does not match its folder",
		d + "/steps/04-stray: step \"stray\" is not listed in course.yaml",
		d + "/topics/docker-networking/page.md:1: frontmatter: missing",
	}
	for _, w := range want {
		if !strings.Contains(all, filepath.FromSlash(w)) {
			t.Errorf("missing problem %q", w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(got), len(want), all)
	}
	for _, bad := range []string{"beta#run", "{{.State"} {
		if strings.Contains(all, bad) {
			t.Errorf("false problem mentioning %q:\n%s", bad, all)
		}
	}

	// Load returns the same list as its error.
	_, err := Load(os.DirFS("testdata/broken"), Options{KnownChecks: known})
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != len(got) {
		t.Fatalf("Load error = %v", err)
	}
	if !strings.Contains(err.Error(), "course/steps/01-alpha/guided.md:3: frontmatter: invalid YAML") {
		t.Errorf("Load error lacks file and line:\n%v", err)
	}
	if Check("testdata/valid") != nil {
		t.Errorf("valid fixture has problems: %v", Check("testdata/valid"))
	}
}

func TestHighlightCSS(t *testing.T) {
	css := string(HighlightCSS())
	for _, want := range []string{".chroma", ".chroma .kn", "@media (prefers-color-scheme: dark) {"} {
		if !strings.Contains(css, want) {
			t.Errorf("CSS lacks %q", want)
		}
	}
	if strings.Count(css, "{") != strings.Count(css, "}") {
		t.Error("CSS braces unbalanced")
	}
}

// copyFixture copies testdata/valid into a temporary directory.
func copyFixture(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	err := os.CopyFS(dst, os.DirFS("testdata/valid"))
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
