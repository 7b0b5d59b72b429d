package content

import (
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The tests in this file check the real, embedded course.

func loadDefault(t *testing.T) *Course {
	t.Helper()
	c, err := Load(DefaultFS(), Options{ServerURL: "http://203.0.113.10:8080"})
	if err != nil {
		t.Fatalf("the embedded course is invalid: %v", err)
	}
	return c
}

func TestDefaultCourseStructure(t *testing.T) {
	c := loadDefault(t)
	var steps []string
	for _, s := range c.Steps {
		steps = append(steps, s.ID)
	}
	want := []string{"clone", "stop-old-container", "explore-repo", "build-image", "list-images",
		"run-interactive", "publish-port", "verify-browser", "open-security-group"}
	if !slices.Equal(steps, want) {
		t.Errorf("steps = %v, want %v", steps, want)
	}
	for _, tt := range []struct {
		kind Kind
		ids  []string
	}{{KindTopic, []string{"docker-networking", "multi-stage-builds", "entrypoint-vs-cmd"}}, {KindBonus, []string{"free-tier-instances"}}} {
		for _, id := range tt.ids {
			if _, ok := c.Page(tt.kind, "", id); !ok {
				t.Errorf("%s %s missing", tt.kind, id)
			}
		}
	}
	// The check ids each page declares (shared by both variants).
	checks := map[string][]string{
		"clone":               {},
		"stop-old-container":  {"old-container-removed", "port-8000-single-owner"},
		"explore-repo":        {},
		"build-image":         {"docker-reachable", "app-image-built"},
		"list-images":         {"app-image-tagged"},
		"run-interactive":     {"app-container-interactive"},
		"publish-port":        {"port-8000-published"},
		"verify-browser":      {"app-answers-http"},
		"open-security-group": {"security-group-allows-8000", "security-group-no-risky-rules", "instance-type-free-tier"},
		"docker-networking":   {"user-network-with-app"},
		"multi-stage-builds":  {"multi-stage-image-smaller", "multi-stage-container-runs"},
		"entrypoint-vs-cmd":   {"image-entrypoint-and-cmd"},
		"free-tier-instances": {},
	}
	for _, p := range c.Pages() {
		got := slices.Clone(p.Checks)
		want := slices.Clone(checks[p.ID])
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: checks = %v, want %v", p.File, p.Checks, checks[p.ID])
		}
		if p.QuizID != p.ID {
			t.Errorf("%s: quiz = %q, want %q", p.File, p.QuizID, p.ID)
		}
	}
}

// TestDefaultCourseVariantSwitch: a reader on any step of one variant finds
// the same step in the other variant.
func TestDefaultCourseVariantSwitch(t *testing.T) {
	c := loadDefault(t)
	if len(c.Variants) != 2 || c.Variants[0].ID != "guided" || c.Variants[1].ID != "concepts" {
		t.Fatalf("variants = %+v", c.Variants)
	}
	for _, s := range c.Steps {
		for _, from := range c.Variants {
			for _, to := range c.Variants {
				p, ok := c.Page(KindStep, to.ID, s.ID)
				if !ok || p.ID != s.ID || p.Variant != to.ID {
					t.Errorf("switching %s -> %s on step %s: no page", from.ID, to.ID, s.ID)
				}
			}
		}
	}
	var concepts []string
	for _, l := range c.Nav("concepts") {
		concepts = append(concepts, l.ID)
	}
	if n := len(concepts); n != 12 || !slices.Equal(concepts[9:], []string{"docker-networking", "multi-stage-builds", "free-tier-instances"}) {
		t.Errorf("concepts navigation = %v", concepts)
	}
	if n := len(c.Nav("guided")); n != 9 {
		t.Errorf("guided navigation has %d pages, want 9", n)
	}
}

// TestDefaultCourseHTML: every page is well-formed HTML, has unique ids,
// and every internal link and anchor points at something that exists.
func TestDefaultCourseHTML(t *testing.T) {
	c := loadDefault(t)
	ids := map[string]map[string]bool{} // page URL -> ids
	links := map[string][]string{}      // page file -> hrefs
	for _, p := range c.Pages() {
		pageIDs, hrefs, err := checkWellFormed(string(p.HTML))
		if err != nil {
			t.Errorf("%s: %v", p.File, err)
		}
		ids[p.Link().URL] = pageIDs
		links[p.File] = hrefs
		for _, bad := range []string{"zqph", "raw HTML omitted", "[!NOTE]", "[!TIP]", "[!WARNING]"} {
			if strings.Contains(string(p.HTML), bad) {
				t.Errorf("%s: rendered HTML contains %q", p.File, bad)
			}
		}
		for _, m := range valueRE.FindAllStringSubmatch(string(p.HTML), -1) {
			if !templateKeywords[m[1]] {
				t.Errorf("%s: %s was not substituted", p.File, m[0])
			}
		}
		if p.Title == "" || p.Summary == "" || p.ETag == "" {
			t.Errorf("%s: title, summary or ETag empty", p.File)
		}
	}
	for file, hrefs := range links {
		for _, href := range hrefs {
			u, err := url.Parse(href)
			if err != nil {
				t.Errorf("%s: bad href %q", file, href)
				continue
			}
			if u.Host == "203.0.113.10:8080" {
				u.Scheme, u.Host = "", ""
			}
			if u.Scheme != "" {
				continue
			}
			switch {
			case u.Path == "" || u.Path == "/freetier" || u.Path == LabRepoPath || u.Path == LabTarballPath || u.Path == "/":
			case ids[u.Path] == nil:
				t.Errorf("%s: link %q: no such page", file, href)
				continue
			}
			target := u.Path
			if target == "" {
				target = pageURLOf(c, file)
			}
			if u.Fragment != "" && !ids[target][u.Fragment] {
				t.Errorf("%s: link %q: no id %q on %s", file, href, u.Fragment, target)
			}
		}
	}
}

func pageURLOf(c *Course, file string) string {
	for _, p := range c.Pages() {
		if p.File == file {
			return p.Link().URL
		}
	}
	return ""
}

// voidElements have no end tag.
var voidElements = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true,
	"hr": true, "img": true, "input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

// checkWellFormed tokenizes a fragment and checks that every element is
// closed in order and every id is unique; it returns the ids and hrefs.
func checkWellFormed(fragment string) (map[string]bool, []string, error) {
	z := html.NewTokenizer(strings.NewReader(fragment))
	var stack []string
	ids := map[string]bool{}
	var hrefs []string
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				return ids, hrefs, z.Err()
			}
			if len(stack) > 0 {
				return ids, hrefs, errorf("unclosed elements %v", stack)
			}
			return ids, hrefs, nil
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			for _, a := range tok.Attr {
				switch a.Key {
				case "id":
					if ids[a.Val] {
						return ids, hrefs, errorf("duplicate id %q", a.Val)
					}
					ids[a.Val] = true
				case "href":
					hrefs = append(hrefs, a.Val)
				}
			}
			if tt == html.StartTagToken && !voidElements[tok.Data] {
				stack = append(stack, tok.Data)
			}
		case html.EndTagToken:
			tok := z.Token()
			if len(stack) == 0 || stack[len(stack)-1] != tok.Data {
				return ids, hrefs, errorf("end tag </%s> does not close %v", tok.Data, stack)
			}
			stack = stack[:len(stack)-1]
		}
	}
}

func errorf(format string, args ...any) error {
	return &wellFormedError{msg: fmt.Sprintf(format, args...)}
}

type wellFormedError struct{ msg string }

func (e *wellFormedError) Error() string { return e.msg }

// textOf returns the text a reader sees on a page, whitespace collapsed.
func textOf(t *testing.T, fragment string) string {
	t.Helper()
	nodes, err := html.ParseFragment(strings.NewReader(fragment), &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// TestDefaultCourseCommands: every command of both variants of the guide
// appears in the course, as a reader sees it.
func TestDefaultCourseCommands(t *testing.T) {
	c := loadDefault(t)
	commands := []string{
		"git clone",
		"docker stop <container_id>",
		"docker rm <container_id>",
		"cd django-app",
		"docker build .",
		"docker build -t django-app",
		"docker images",
		"docker run -it <image_id>",
		"docker run -it <image_id> sh",
		"docker run -p 8000:8000",
		"http://<host_ip>:8000",
		"docker network create",
		"docker network connect",
	}
	// What each variant's own pages must teach (its navigation).
	perVariant := map[string][]string{
		"guided":   {"git clone", "docker stop <container_id>", "docker build", "docker images", "docker run -it <image_id>", "docker run -p 8000:8000", "http://<host_ip>:8000"},
		"concepts": {"git clone", "docker stop <container_id>", "docker rm <container_id>", "docker build", "docker images", "docker run -it <image_id> sh", "docker run -p 8000:8000", "docker network create", "docker network connect"},
	}
	var all strings.Builder
	for _, p := range c.Pages() {
		all.WriteString(textOf(t, string(p.HTML)) + "\n")
	}
	for _, cmd := range commands {
		if !strings.Contains(all.String(), cmd) {
			t.Errorf("the course never shows %q", cmd)
		}
	}
	for variant, cmds := range perVariant {
		var text strings.Builder
		for _, l := range c.Nav(variant) {
			p, _ := c.Page(l.Kind, variant, l.ID)
			text.WriteString(textOf(t, string(p.HTML)) + "\n")
		}
		for _, cmd := range cmds {
			if !strings.Contains(text.String(), cmd) {
				t.Errorf("variant %s never shows %q", variant, cmd)
			}
		}
	}
}
