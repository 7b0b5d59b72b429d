package web

import "time"

// Form is a submitted form as it is shown again: the values the person
// typed (never passwords) and one message per field that needs attention.
type Form struct {
	Values map[string]string
	Errors map[string]string
}

// Get returns a field's value.
func (f Form) Get(name string) string { return f.Values[name] }

// Err returns a field's message, empty when the field is fine.
func (f Form) Err(name string) string { return f.Errors[name] }

// Checked reports whether a checkbox was ticked.
func (f Form) Checked(name string) bool { return f.Values[name] == "on" }

// HasErrors reports whether any field needs attention.
func (f Form) HasErrors() bool { return len(f.Errors) > 0 }

// SignInPage is the sign-in form.
type SignInPage struct {
	Page
	Form    Form
	Next    string
	Message string // a problem with the whole attempt (wrong password, throttled)
}

// SignUpPage is sign-up through a cohort's invite link; signed-in people
// see a button to join instead.
type SignUpPage struct {
	Page
	Form       Form
	CohortName string
	Code       string
	Closed     bool
	Message    string
}

// JoinCodePage asks for a join code.
type JoinCodePage struct {
	Page
	Form Form
}

// SetupPage creates an account from a one-time link (the first admin, or
// an invited instructor).
type SetupPage struct {
	Page
	Form  Form
	Token string
	Role  string
}

// AccountPage shows and edits the signed-in person's account.
type AccountPage struct {
	Page
	Email        string
	Role         string
	Profile      Form
	Password     Form
	Tokens       []APITokenRow
	TokenForm    Form
	NewToken     string // shown once, right after creation
	NewTokenName string
}

// APITokenRow is one API token as the account page lists it.
type APITokenRow struct {
	ID        int64
	Name      string
	CreatedAt time.Time
	LastUsed  time.Time
	Revoked   bool
}

// CohortRow is one cohort in a list.
type CohortRow struct {
	ID       int64
	Name     string
	StartsOn string
	EndsOn   string
	JoinOpen bool
}

// CohortListPage lists the cohorts a person manages, with a create form.
type CohortListPage struct {
	Page
	Cohorts []CohortRow
	Form    Form
}

// MemberRow is one person in a cohort.
type MemberRow struct {
	UserID   int64
	Name     string
	Email    string
	Role     string // student or instructor, in the cohort
	JoinedAt time.Time
}

// CohortPage is one cohort: settings, invite link and members.
type CohortPage struct {
	Page
	ID             int64
	Name           string
	JoinCode       string
	InviteURL      string
	JoinOpen       bool
	Settings       Form
	InstructorForm Form
	Instructors    []MemberRow
	Students       []MemberRow
	ResetLink      *ResetLink // a student's fresh reset link, shown once
}

// ResetLink is a one-time password reset link, shown once to the
// instructor or admin who made it.
type ResetLink struct {
	UserID    int64
	Email     string
	URL       string
	ExpiresAt time.Time
}

// ResetPage sets a new password from a reset link.
type ResetPage struct {
	Page
	Form  Form
	Token string
	Email string // the account the link resets
}

// UserRow is one account in the admin list.
type UserRow struct {
	ID        int64
	Email     string
	Name      string
	Role      string
	CreatedAt time.Time
	Self      bool
}

// AdminUsersPage lists accounts for admins, with role changes and
// instructor invitations.
type AdminUsersPage struct {
	Page
	Users     []UserRow
	InviteURL string     // a fresh instructor invitation, shown once
	ResetLink *ResetLink // a fresh password reset link, shown once
	Message   string
}
