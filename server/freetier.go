package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/freetier"
	"github.com/coursekit/workshop/web"
)

// The free-tier calculator's three front ends on the web: the page
// GET /freetier (a GET form whose state is its URL), and the JSON API
// GET and POST /api/v1/freetier. All of them call package freetier with the
// server's date as "today", so they give the command line's figures.

// freetierFormGroups is how many instance groups the page's form offers.
const freetierFormGroups = 5

// maxFreetierBody bounds a POST body: an Input is a few hundred bytes.
const maxFreetierBody = 64 << 10

// freetierDate is "today" for the calculator: the server's date (UTC),
// from the injectable clock.
func (s *Server) freetierDate() time.Time { return s.now().UTC() }

// freetierPage renders the calculator: the form with what the person
// entered and, when the input is valid, the result. Invalid input gives a
// 422 with a message beside each field and no result.
func (s *Server) freetierPage(c echo.Context) error {
	raw := c.QueryParams()
	q, groupSuffixes := freetierQuery(raw)
	res, errs := calculateQuery(q, groupSuffixes, s.freetierDate())

	p := web.FreeTierPage{
		Page:  s.page(c, "Free-tier calculator"),
		Form:  freetierForm(raw, errs),
		Types: freetier.TypeNames(),
		Today: s.freetierDate().Format("2006-01-02"),
	}
	p.Nav = "freetier"
	p.DefaultQuota = int(freetier.Facts.VCPUQuota.Value)
	p.Checked = freetier.Checked
	if enc := q.Encode(); enc != "" {
		p.ShareURL = "/freetier?" + enc
		p.APIURL = "/api/v1/freetier?" + enc
	} else {
		p.ShareURL, p.APIURL = "/freetier", "/api/v1/freetier"
	}
	if len(errs) > 0 {
		p.Errors = errs
		return s.renderStatus(c, http.StatusUnprocessableEntity, "freetier", p)
	}
	p.Result = res
	numbers := make([]int, len(groupSuffixes))
	for i, n := range groupSuffixes {
		numbers[i] = n + 1
	}
	p.Chart = web.NewFreeTierChart(res, numbers)
	return s.render(c, "freetier", p)
}

// freetierGet is GET /api/v1/freetier: the page's query string in, the
// calculator's Response as JSON out.
func (s *Server) freetierGet(c echo.Context) error {
	q, groupSuffixes := freetierQuery(c.QueryParams())
	res, errs := calculateQuery(q, groupSuffixes, s.freetierDate())
	if len(errs) > 0 {
		return &FieldErrors{Code: http.StatusUnprocessableEntity, Fields: errs}
	}
	return freetierJSON(c, res)
}

// freetierPost is POST /api/v1/freetier: an Input as JSON in, the
// calculator's Response as JSON out. It needs no CSRF token: it reads no
// cookie and changes nothing (see skipCSRF).
func (s *Server) freetierPost(c echo.Context) error {
	dec := json.NewDecoder(io.LimitReader(c.Request().Body, maxFreetierBody+1))
	dec.DisallowUnknownFields()
	var in freetier.Input
	if err := dec.Decode(&in); err != nil {
		return &FieldErrors{Code: http.StatusBadRequest, Fields: map[string]string{"body": jsonProblem(err)}}
	}
	if dec.More() {
		return &FieldErrors{Code: http.StatusBadRequest, Fields: map[string]string{"body": "must hold one JSON object, and nothing after it"}}
	}
	res, errs := freetier.Calculate(in, s.freetierDate())
	if len(errs) > 0 {
		return &FieldErrors{Code: http.StatusUnprocessableEntity, Fields: errs}
	}
	return freetierJSON(c, res)
}

func freetierJSON(c echo.Context, res *freetier.Result) error {
	// The answer changes with the server's date, so nobody caches it.
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, freetier.Response{Result: res})
}

// jsonProblem says what is wrong with a JSON body in words safe to show:
// encoding/json's messages name the field and the expected type, and
// nothing of the server.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "is empty: send the calculator's input as a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "ends too early: the JSON is incomplete or longer than 64 KiB"
	case errors.As(err, &syn):
		return fmt.Sprintf("is not valid JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q must be a JSON %s, not %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
		}
		return fmt.Sprintf("must be a JSON object, not %s", typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "has an " + strings.TrimPrefix(err.Error(), "json: ") + "; see the API's documentation for the field names"
	}
	return "could not be read as the calculator's JSON input"
}

// jsonKind names a Go kind as JSON does.
func jsonKind(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "number"
	case kind == "slice":
		return "array"
	case kind == "struct", kind == "map", kind == "ptr":
		return "object"
	case kind == "bool":
		return "boolean (true or false)"
	}
	return kind
}

// freetierQuery prepares a query string for freetier.ParseValues: a form
// submits every field, so empty values are dropped (an instance group
// whose fields are all empty does not exist), and only the calculator's
// own fields are kept, so that the share link is clean. It also returns
// the suffix numbers of the groups present, in order (0 for the first
// group, then e.g. 3 for "type_3"), which map ParseValues' positions back
// to the form's field names when a group in the middle is left empty.
func freetierQuery(raw url.Values) (url.Values, []int) {
	q := url.Values{}
	keep := func(k string) {
		if v := strings.TrimSpace(raw.Get(k)); v != "" {
			q.Set(k, v)
		}
	}
	for _, k := range []string{"plan", "created", "month", "ebs_gb", "credits_usd", "vcpu_quota"} {
		keep(k)
	}
	suffixes := []int{0}
	for i := 0; i < freetier.MaxGroups; i++ {
		for _, name := range freetierGroupFields {
			keep(freetier.GroupField(i, name))
		}
		if i > 0 && (q.Has(freetier.GroupField(i, "type")) || q.Has(freetier.GroupField(i, "instances"))) {
			suffixes = append(suffixes, i)
		}
	}
	return q, suffixes
}

// freetierGroupFields are the fields of one instance group.
var freetierGroupFields = []string{"type", "instances", "hours", "hours_per_day", "ipv4"}

// calculateQuery is freetier.CalculateValues, with the messages that
// freetier.Validate keys by a group's position ("hours_2" for the second
// group present) renamed to the field names of the query ("hours_4" when
// groups 2 and 3 were left empty), so each message lands beside its field.
// ParseValues' own messages already use the query's names.
func calculateQuery(q url.Values, suffixes []int, today time.Time) (*freetier.Result, map[string]string) {
	in, perrs := freetier.ParseValues(q)
	if len(perrs) == 0 {
		res, verrs := freetier.Calculate(in, today)
		if len(verrs) == 0 {
			return res, nil
		}
		return nil, remapGroupErrors(verrs, suffixes)
	}
	out := map[string]string(perrs)
	for k, msg := range remapGroupErrors(freetier.Validate(in, today), suffixes) {
		if _, ok := out[k]; !ok {
			out[k] = msg
		}
	}
	return nil, out
}

// remapGroupErrors renames positional group keys (see calculateQuery).
func remapGroupErrors(errs freetier.FieldErrors, suffixes []int) map[string]string {
	out := make(map[string]string, len(errs))
	for k, msg := range errs {
		if name, pos := splitGroupField(k); pos > 0 && pos < len(suffixes) && isGroupField(name) {
			k = freetier.GroupField(suffixes[pos], name)
		}
		out[k] = msg
	}
	return out
}

// splitGroupField splits "hours_per_day_3" into ("hours_per_day", 2), the
// group's position; a name without a number suffix is position 0.
func splitGroupField(k string) (string, int) {
	i := strings.LastIndexByte(k, '_')
	if i < 0 {
		return k, 0
	}
	n, err := strconv.Atoi(k[i+1:])
	if err != nil || n < 2 {
		return k, 0
	}
	return k[:i], n - 1
}

func isGroupField(name string) bool {
	for _, f := range freetierGroupFields {
		if f == name {
			return true
		}
	}
	return false
}

// freetierForm is the form as the person filled it in: raw values (so a
// typo is shown as typed, beside its message) for the page's groups, more
// if the query names a later group.
func freetierForm(raw url.Values, errs map[string]string) web.FreeTierForm {
	field := func(name string) web.FreeTierField {
		return web.FreeTierField{Name: name, Value: strings.TrimSpace(raw.Get(name)), Error: errs[name]}
	}
	f := web.FreeTierForm{
		Plan: field("plan"), Created: field("created"), Month: field("month"),
		EBSGB: field("ebs_gb"), CreditsUSD: field("credits_usd"), VCPUQuota: field("vcpu_quota"),
		GroupsError: errs["groups"],
	}
	n := freetierFormGroups
	for i := freetier.MaxGroups - 1; i >= n; i-- {
		if raw.Get(freetier.GroupField(i, "type")) != "" || raw.Get(freetier.GroupField(i, "instances")) != "" {
			n = i + 1
			break
		}
	}
	for i := 0; i < n; i++ {
		g := web.FreeTierGroup{
			Number:      i + 1,
			Type:        field(freetier.GroupField(i, "type")),
			Instances:   field(freetier.GroupField(i, "instances")),
			Hours:       field(freetier.GroupField(i, "hours")),
			HoursPerDay: field(freetier.GroupField(i, "hours_per_day")),
			IPv4:        field(freetier.GroupField(i, "ipv4")),
		}
		g.Filled = i == 0 || g.Type.Value != "" || g.Instances.Value != "" || g.Hours.Value != "" || g.HoursPerDay.Value != "" || g.IPv4.Value != ""
		f.Groups = append(f.Groups, g)
	}
	// Other sections open when they hold a value or a message.
	for _, x := range []web.FreeTierField{f.EBSGB, f.CreditsUSD, f.VCPUQuota} {
		if x.Value != "" || x.Error != "" {
			f.MoreOpen = true
		}
	}
	return f
}
