package server

import (
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/web"
)

// maxField bounds any single form value; longer input is refused before
// any rule looks at it.
const maxField = 10 * 1024

// form reads and validates one submitted form. Each reader records a
// message per bad field and keeps what the person typed (never passwords),
// so the page can be shown again with their input.
type form struct {
	src    url.Values
	values map[string]string
	errs   map[string]string
}

func newForm(c echo.Context) (*form, error) {
	if err := c.Request().ParseForm(); err != nil {
		return nil, Errorf(http.StatusBadRequest, "The form could not be read.")
	}
	return valuesForm(c.Request().PostForm), nil
}

// valuesForm validates values that did not come from a posted form (the
// JSON API's fields, turned into strings).
func valuesForm(v url.Values) *form {
	return &form{src: v, values: map[string]string{}, errs: map[string]string{}}
}

// raw returns a field checked for encoding and size.
func (f *form) raw(name string, max int) (string, bool) {
	v := f.src.Get(name)
	if !utf8.ValidString(v) {
		f.values[name] = strings.ToValidUTF8(v, "\uFFFD")
		f.errs[name] = "Contains characters that are not valid text (UTF-8)."
		return "", false
	}
	if len(v) > maxField || utf8.RuneCountInString(v) > max {
		f.values[name] = truncate(v, max)
		f.errs[name] = fmt.Sprintf("Too long: at most %d characters.", max)
		return "", false
	}
	return v, true
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

func (f *form) fail(name, msg string) { f.errs[name] = msg }

// ok reports whether every field read so far is valid.
func (f *form) ok() bool { return len(f.errs) == 0 }

// web returns the form as pages show it.
func (f *form) web() web.Form { return web.Form{Values: f.values, Errors: f.errs} }

// errors returns the field messages as a 422 for the JSON API.
func (f *form) fieldErrors() *FieldErrors {
	return &FieldErrors{Code: http.StatusUnprocessableEntity, Fields: f.errs}
}

// Character rules for free text: letters, digits, spaces and a little
// punctuation. Angle brackets, quotes, semicolons, equals signs and
// backslashes are refused, so markup- or SQL-looking input is answered
// with a message rather than stored (it would be harmless anyway:
// statements are parameterized and output is escaped).
const (
	personPunct = ".,'’-"
	titlePunct  = ".,'’-_&()/:#+!?"
)

// text reads a required (or optional) line of text under a character rule.
func (f *form) text(name string, max int, required bool, punct, what string) string {
	v, ok := f.raw(name, max)
	if !ok {
		return ""
	}
	v = strings.TrimSpace(v)
	f.values[name] = v
	if v == "" {
		if required {
			f.fail(name, "Required.")
		}
		return ""
	}
	for _, r := range v {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == ' ' || strings.ContainsRune(punct, r) {
			continue
		}
		f.fail(name, fmt.Sprintf("%s may contain letters, digits, spaces and %s only.", what, spaced(punct)))
		return ""
	}
	if strings.Contains(v, "--") {
		f.fail(name, fmt.Sprintf("%s may not contain “--”.", what))
		return ""
	}
	return v
}

func spaced(punct string) string {
	var parts []string
	for _, r := range punct {
		parts = append(parts, string(r))
	}
	return strings.Join(parts, " ")
}

// email reads a required address, normalized (trimmed, lower case).
func (f *form) email(name string) string {
	v, ok := f.raw(name, 254)
	if !ok {
		return ""
	}
	v = normalizeEmail(v)
	f.values[name] = v
	if v == "" {
		f.fail(name, "Required.")
		return ""
	}
	if msg := checkEmail(v); msg != "" {
		f.fail(name, msg)
		return ""
	}
	return v
}

func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// checkEmail returns why a normalized address is not acceptable, or "".
func checkEmail(v string) string {
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" || strings.ContainsAny(v, " <>\"();=\\`") ||
		strings.Count(v, "@") != 1 || strings.HasPrefix(v, "@") || strings.HasSuffix(v, "@") || len(v) > 254 {
		return "Not an email address (like name@example.org)."
	}
	return ""
}

// password reads a password: any characters, bytes not counted as typed
// (it is never shown again). newOne applies the length rule.
func (f *form) password(name string, newOne bool) string {
	v := f.src.Get(name)
	switch {
	case v == "":
		f.fail(name, "Required.")
	case !utf8.ValidString(v):
		f.fail(name, "Contains characters that are not valid text (UTF-8).")
	case len(v) > maxPasswordLen:
		f.fail(name, fmt.Sprintf("Too long: at most %d bytes.", maxPasswordLen))
	case newOne && utf8.RuneCountInString(v) < minPasswordLen:
		f.fail(name, fmt.Sprintf("Too short: at least %d characters.", minPasswordLen))
	default:
		return v
	}
	return ""
}

// choice reads one of a fixed set of values; "" is allowed only when it is
// among them.
func (f *form) choice(name string, options ...string) string {
	v, ok := f.raw(name, 32)
	if !ok {
		return ""
	}
	f.values[name] = v
	for _, o := range options {
		if v == o {
			return v
		}
	}
	f.fail(name, "Choose one of the options.")
	return ""
}

// checkbox reads a checkbox: absent or "on".
func (f *form) checkbox(name string) bool {
	v, ok := f.raw(name, 8)
	if !ok {
		return false
	}
	switch v {
	case "":
		return false
	case "on", "true", "1":
		f.values[name] = "on"
		return true
	}
	f.values[name] = v
	f.fail(name, "Tick the box or leave it empty.")
	return false
}

// date reads an optional YYYY-MM-DD date.
func (f *form) date(name string) *time.Time {
	v, ok := f.raw(name, 10)
	if !ok {
		return nil
	}
	v = strings.TrimSpace(v)
	f.values[name] = v
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil || t.Year() < 2000 || t.Year() > 2200 {
		f.fail(name, "Not a date (YYYY-MM-DD).")
		return nil
	}
	return &t
}

// percent reads a required whole percentage 0..100 as a fraction.
func (f *form) percent(name string) float64 {
	v, ok := f.raw(name, 3)
	if !ok {
		return 0
	}
	v = strings.TrimSpace(v)
	f.values[name] = v
	n, err := strconv.Atoi(v)
	if v == "" {
		f.fail(name, "Required.")
		return 0
	}
	if err != nil || n < 0 || n > 100 {
		f.fail(name, "A whole number from 0 to 100.")
		return 0
	}
	return float64(n) / 100
}
