package server

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// TestEveryLinkResolves crawls the site from the home page as an
// anonymous reader: every page parses as HTML, and every internal link
// and in-page anchor it finds leads somewhere.
func TestEveryLinkResolves(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	seen := map[string]bool{}
	queue := []string{"/", "/guide/guided", "/guide/concepts", "/lab", "/freetier"}
	pages := 0
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		if seen[path] {
			continue
		}
		seen[path] = true
		resp := h.get(c, path)
		body := readBody(resp)
		switch resp.StatusCode {
		case http.StatusOK:
		case http.StatusSeeOther, http.StatusFound, http.StatusMovedPermanently:
			if loc := resp.Header.Get("Location"); strings.HasPrefix(loc, "/") {
				queue = append(queue, loc)
			}
			continue
		default:
			t.Errorf("GET %s: %d", path, resp.StatusCode)
			continue
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			continue
		}
		pages++
		doc, err := html.Parse(strings.NewReader(body))
		if err != nil {
			t.Errorf("%s does not parse as HTML: %v", path, err)
			continue
		}
		ids := map[string]bool{}
		var links []string
		var walk func(n *html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode {
				for _, a := range n.Attr {
					if a.Key == "id" {
						ids[a.Val] = true
					}
					if (n.Data == "a" && a.Key == "href") || (n.Data == "link" && a.Key == "href") || (n.Data == "script" && a.Key == "src") {
						links = append(links, a.Val)
					}
				}
			}
			for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
				walk(ch)
			}
		}
		walk(doc)
		for _, l := range links {
			switch {
			case strings.HasPrefix(l, "#"):
				if l != "#main" && !ids[l[1:]] && l != "#" {
					t.Errorf("%s links to missing anchor %s", path, l)
				}
			case strings.HasPrefix(l, "/") && !strings.HasPrefix(l, "//"):
				u, _ := url.Parse(l)
				if u.Path == "/signout" {
					continue
				}
				target := u.Path
				if u.RawQuery != "" {
					target += "?" + u.RawQuery
				}
				if !seen[target] {
					queue = append(queue, target)
				}
			}
		}
	}
	if pages < 25 {
		t.Errorf("crawled only %d pages; the course has more", pages)
	}
}

func TestVariantSwitchKeepsTheStep(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	body := readBody(h.get(c, "/guide/guided/publish-port"))
	if !strings.Contains(body, `href="/guide/concepts/publish-port"`) {
		t.Fatal("the step-by-step page does not offer the same step in the concepts variant")
	}
	readBody(h.get(c, "/guide/concepts/publish-port"))
	resp := h.get(c, "/guide")
	readBody(resp)
	if loc := resp.Header.Get("Location"); loc != "/guide/concepts" {
		t.Errorf("an anonymous reader's variant is not remembered: /guide redirects to %q", loc)
	}
	// Signed in: the choice goes to the profile and follows the person.
	w := h.world()
	s1 := h.sessionClient(w.StudentA)
	readBody(h.get(s1, "/guide/concepts/clone"))
	s2 := h.sessionClient(w.StudentA)
	resp = h.get(s2, "/guide")
	readBody(resp)
	if loc := resp.Header.Get("Location"); loc != "/guide/concepts" {
		t.Errorf("a student's variant is not kept in the profile: /guide redirects to %q on another device", loc)
	}
}

func TestAnonymousPagesRevalidateByETag(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	resp := h.get(c, "/topics/entrypoint-vs-cmd")
	readBody(resp)
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag on an anonymous course page")
	}
	resp = h.do(c, http.MethodGet, "/topics/entrypoint-vs-cmd", "", map[string]string{"If-None-Match": etag})
	readBody(resp)
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("got %d, want 304 for a matching ETag", resp.StatusCode)
	}
}

func TestUnknownPagesAreClear404s(t *testing.T) {
	h := newHarness(t)
	for _, p := range []string{"/guide/nosuch", "/guide/guided/nosuch", "/topics/nosuch", "/bonus/%3Cscript%3E"} {
		resp := h.get(h.client(), p)
		body := readBody(resp)
		if resp.StatusCode != 404 || strings.Contains(body, "<script>") {
			t.Errorf("GET %s: %d (want a 404 page with the input escaped)", p, resp.StatusCode)
		}
	}
}
