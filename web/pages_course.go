package web

import "html/template"

// CoursePage is a page of the course: a step in one variant, a topic or
// the bonus page, with its navigation and, for signed-in students, the
// step's checks and quiz.
type CoursePage struct {
	Page
	CourseTitle string
	Kind        string // step, topic, bonus
	Number      int
	Summary     string
	HTML        template.HTML
	Headings    []Heading
	Variants    []VariantLink // the switch, keeping the step
	VariantName string
	Steps       []NavItem
	Topics      []NavItem
	Bonus       []NavItem
	Prev, Next  *Link
	Checks      *CheckPanel
	Quiz        *QuizPanel
	SignInURL   string
}

// Heading is an entry of a page's table of contents.
type Heading struct {
	Level int
	ID    string
	Text  string
}

// VariantLink is one side of the variant switch.
type VariantLink struct {
	ID, Title, URL string
	Current        bool
}

// NavItem is an entry of the course sidebar with the student's mark.
type NavItem struct {
	Number  int
	Title   string
	URL     string
	Current bool
	Mark    string // "done", "failing", "started" or ""
}

// GuideIndex lists a variant's pages.
type GuideIndex struct {
	Page
	CourseTitle string
	Summary     string
	Variants    []VariantLink
	Steps       []NavItem
	Topics      []NavItem
	Bonus       []NavItem
}

// LabPage tells how to get the lab's repository.
type LabPage struct {
	Page
	RepoURL    string
	TarballURL string
	Custom     bool // an instructor's own repository
}
