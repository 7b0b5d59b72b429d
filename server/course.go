package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/content"
	"github.com/coursekit/workshop/web"
)

// variantCookie remembers an anonymous reader's guide variant.
const variantCookie = "workshop_variant"

// course returns the loaded course (replaced atomically on reload).
func (s *Server) course() *content.Course { return s.courseRef.Load() }

// SetCourse swaps in a newly loaded course (used by the content watcher).
func (s *Server) SetCourse(c *content.Course) { s.courseRef.Store(c) }

// preferredVariant picks the variant to show: the one asked for, then the
// signed-in person's choice, then their cohort's default, then the
// anonymous reader's cookie, then the first variant.
func (s *Server) preferredVariant(c echo.Context) string {
	course := s.course()
	valid := func(v string) bool { _, ok := course.Variant(v); return v != "" && ok }
	for _, v := range s.variantHints(c) {
		if valid(v) {
			return v
		}
	}
	if ck, err := c.Cookie(variantCookie); err == nil && valid(ck.Value) {
		return ck.Value
	}
	return course.Variants[0].ID
}

// rememberVariant keeps the reader's choice: in their profile when signed
// in, in a cookie otherwise.
func (s *Server) rememberVariant(c echo.Context, variant string) {
	if s.saveVariant(c, variant) {
		return
	}
	c.SetCookie(&http.Cookie{Name: variantCookie, Value: variant, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secureCookies(c)})
}

// guideIndex redirects /guide to the reader's variant.
func (s *Server) guideIndex(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/guide/"+s.preferredVariant(c))
}

// guideVariant lists a variant's pages.
func (s *Server) guideVariant(c echo.Context) error {
	course := s.course()
	v, ok := course.Variant(c.Param("variant"))
	if !ok {
		return Errorf(http.StatusNotFound, "There is no guide variant %q. Try %s.", c.Param("variant"), variantNames(course))
	}
	s.rememberVariant(c, v.ID)
	marks := s.marks(c)
	p := web.GuideIndex{Page: s.page(c, v.Title), CourseTitle: course.Title, Summary: v.Summary}
	p.Steps, p.Topics, p.Bonus = s.navItems(course, v.ID, "", marks)
	p.Variants = variantLinks(course, v.ID, func(id string) string { return "/guide/" + id })
	p.Page.Nav = "guide"
	return s.render(c, "guide", p)
}

// stepPage shows one step in one variant.
func (s *Server) stepPage(c echo.Context) error {
	course := s.course()
	variant, id := c.Param("variant"), c.Param("id")
	if _, ok := course.Variant(variant); !ok {
		return Errorf(http.StatusNotFound, "There is no guide variant %q. Try %s.", variant, variantNames(course))
	}
	page, ok := course.Page(content.KindStep, variant, id)
	if !ok {
		return Errorf(http.StatusNotFound, "There is no step %q in the course.", id)
	}
	s.rememberVariant(c, variant)
	return s.coursePage(c, page, variant)
}

// topicPage and bonusPage show pages that are the same in every variant.
func (s *Server) topicPage(c echo.Context) error { return s.sharedPage(c, content.KindTopic) }
func (s *Server) bonusPage(c echo.Context) error { return s.sharedPage(c, content.KindBonus) }

func (s *Server) sharedPage(c echo.Context, kind content.Kind) error {
	page, ok := s.course().Page(kind, "", c.Param("id"))
	if !ok {
		return Errorf(http.StatusNotFound, "There is no %s page %q in the course.", kind, c.Param("id"))
	}
	return s.coursePage(c, page, s.preferredVariant(c))
}

func (s *Server) coursePage(c echo.Context, page *content.Page, variant string) error {
	course := s.course()
	user := s.currentUser(c)
	// A page for an anonymous reader is the same for everyone: let the
	// browser revalidate it by its ETag.
	if user == nil {
		etag := `"` + strings.Trim(page.ETag, `"`) + "-" + variant + "-" + s.web.Assets().Version() + `"`
		c.Response().Header().Set("ETag", etag)
		if c.Request().Header.Get("If-None-Match") == etag {
			return c.NoContent(http.StatusNotModified)
		}
	}
	marks := s.marks(c)
	v, _ := course.Variant(variant)
	p := web.CoursePage{Page: s.page(c, page.Title), CourseTitle: course.Title, Kind: string(page.Kind), Number: page.Number,
		Summary: page.Summary, HTML: page.HTML, VariantName: v.Title}
	p.Page.Nav = "guide"
	for _, h := range page.Headings {
		p.Headings = append(p.Headings, web.Heading{Level: h.Level, ID: h.ID, Text: h.Text})
	}
	if page.Kind == content.KindStep {
		p.Variants = variantLinks(course, variant, func(id string) string { return content.PageURL(content.KindStep, id, page.ID) })
	}
	p.Steps, p.Topics, p.Bonus = s.navItems(course, variant, content.PageURL(page.Kind, page.Variant, page.ID), marks)
	if l := page.Prev[variant]; l != nil {
		p.Prev = &web.Link{Title: l.Title, URL: l.URL}
	}
	if l := page.Next[variant]; l != nil {
		p.Next = &web.Link{Title: l.Title, URL: l.URL}
	}
	if user == nil && (len(page.Checks) > 0 || page.QuizID != "") {
		p.SignInURL = "/signin?next=" + url.QueryEscape(c.Request().URL.Path)
	}
	if err := s.fillPanels(c, page, &p); err != nil {
		return err
	}
	return s.render(c, "course", p)
}

func (s *Server) navItems(course *content.Course, variant, current string, marks map[string]string) (steps, topics, bonus []web.NavItem) {
	for _, l := range course.Nav(variant) {
		item := web.NavItem{Title: l.Title, URL: l.URL, Current: l.URL == current, Mark: marks[l.ID]}
		if l.Kind == content.KindStep {
			steps = append(steps, item)
		}
	}
	for i := range steps {
		steps[i].Number = i + 1
	}
	for _, t := range course.Topics {
		topics = append(topics, web.NavItem{Title: t.Title, URL: content.PageURL(t.Kind, "", t.ID), Current: content.PageURL(t.Kind, "", t.ID) == current, Mark: marks[t.ID]})
	}
	for _, b := range course.Bonus {
		bonus = append(bonus, web.NavItem{Title: b.Title, URL: content.PageURL(b.Kind, "", b.ID), Current: content.PageURL(b.Kind, "", b.ID) == current, Mark: marks[b.ID]})
	}
	return steps, topics, bonus
}

func variantLinks(course *content.Course, current string, url func(id string) string) []web.VariantLink {
	var out []web.VariantLink
	for _, v := range course.Variants {
		out = append(out, web.VariantLink{ID: v.ID, Title: v.Title, URL: url(v.ID), Current: v.ID == current})
	}
	return out
}

func variantNames(course *content.Course) string {
	var names []string
	for _, v := range course.Variants {
		names = append(names, "/guide/"+v.ID)
	}
	return strings.Join(names, " or ")
}
