package web

// Page is what every page shows around its content: the title, who is
// signed in, the CSRF token every form carries, and a flash message.
type Page struct {
	Title     string
	User      *User
	CSRF      string
	Flash     string
	FlashKind string // "ok" or "error"
	Nav       string // the active navigation item
	BaseURL   string
}

// User is the signed-in person as pages show them.
type User struct {
	ID    int64
	Email string
	Name  string
	Role  string // student, instructor, admin
}

// IsStaff reports whether the person may see instructor pages.
func (u *User) IsStaff() bool { return u != nil && (u.Role == "instructor" || u.Role == "admin") }

// IsAdmin reports whether the person is an admin.
func (u *User) IsAdmin() bool { return u != nil && u.Role == "admin" }

// ErrorPage is the page for any error a user sees.
type ErrorPage struct {
	Page
	Status    int
	Message   string
	RequestID string
}

// HomePage is the landing page.
type HomePage struct {
	Page
	CourseTitle   string
	CourseSummary string
	Variants      []Link
	Steps         []Link
	Topics        []Link
	Bonus         []Link
	SetupPending  bool
	// For a signed-in student: the first part not done yet, once they
	// have started; AllDone once every part is.
	Continue *Link
	AllDone  bool
}

// Link is a titled URL with an optional note.
type Link struct {
	Title string
	URL   string
	Note  string
	Mark  string // a signed-in student's progress mark, where shown
}
