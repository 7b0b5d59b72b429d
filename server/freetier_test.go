package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coursekit/workshop/freetier"
)

// freetierToday is the server's date in these tests.
var freetierToday = time.Date(2026, 12, 4, 15, 30, 0, 0, time.UTC)

// newFreetierHarness is a harness whose clock says freetierToday.
func newFreetierHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	h.Srv.now = func() time.Time { return freetierToday }
	return h
}

// cliFlags maps query-string names to the command line's flags.
var cliFlags = map[string]string{
	"plan": "--plan", "created": "--created", "month": "--month", "type": "--type",
	"instances": "--instances", "hours": "--hours", "hours_per_day": "--hours-per-day",
	"ebs_gb": "--ebs", "credits_usd": "--credits", "vcpu_quota": "--vcpu-quota",
}

// cliArgs turns a one-group query string into "workshop freetier" flags.
func cliArgs(t *testing.T, q url.Values) []string {
	t.Helper()
	args := []string{"--json"}
	for k := range q {
		v := q.Get(k)
		switch {
		case k == "ipv4":
			if v != "" && v != "0" {
				args = append(args, "--ipv4")
			}
		case cliFlags[k] != "":
			args = append(args, cliFlags[k], v)
		default:
			t.Fatalf("no command-line flag for %q", k)
		}
	}
	return args
}

func TestFreeTierSameFiguresEverywhere(t *testing.T) {
	h := newFreetierHarness(t)
	c := h.client()
	cases := []struct {
		name  string
		query string
		want  map[string]float64 // figures the case is about
	}{
		{"bonus page: 2 x 375 h", "plan=legacy&instances=2&hours=375&type=t2.micro",
			map[string]float64{"eligible_hours": 750, "free_hours": 750, "billed_hours": 0, "total_usd": 0, "split.hours_each": 375}},
		{"bonus page: 2 x 375 h, dated", "plan=legacy&created=2025-03-01&month=2025-12&instances=2&hours=375&type=t2.micro",
			map[string]float64{"month_hours": 744, "eligible_hours": 750, "billed_hours": 0, "total_usd": 0}},
		{"2 instances all of a 31-day month", "plan=legacy&created=2025-03-01&month=2025-12&instances=2&type=t2.micro",
			map[string]float64{"month_hours": 744, "eligible_hours": 1488, "free_hours": 750, "over_pool_hours": 738, "billed_hours": 738, "total_usd": 8.56}},
		{"1 instance all of a 31-day month", "plan=legacy&created=2025-03-01&month=2025-12",
			map[string]float64{"eligible_hours": 744, "billed_hours": 0, "total_usd": 0, "split.all_month_instances": 1}},
		{"February, 2 instances", "plan=legacy&created=2025-01-10&month=2025-02&instances=2&type=t2.micro",
			map[string]float64{"month_hours": 672, "eligible_hours": 1344, "billed_hours": 594, "total_usd": 6.89}},
		{"credits: t3.micro all month with IPv4", "plan=credits&created=2026-10-01&month=2026-12&instances=1&type=t3.micro&ipv4=1",
			map[string]float64{"month_hours": 744, "types.0.cost_usd": 7.74, "ipv4.cost_usd": 3.72, "total_usd": 11.46, "credits.balance_usd": 100}},
		{"hours per day, EBS and a quota", "plan=legacy&created=2025-03-01&month=2025-12&instances=3&hours_per_day=8&type=t2.micro&ebs_gb=40&vcpu_quota=8",
			map[string]float64{"eligible_hours": 744, "ebs.cost_usd": 0.8, "quota.vcpu_limit": 8, "quota.vcpus_all_running": 3}},
		{"credits: t2.micro refused, with t3.small", "plan=credits&created=2026-08-01&month=2026-11&instances=2&type=t3.small&hours=100",
			map[string]float64{"month_hours": 720, "types.0.cost_usd": 4.16, "total_usd": 4.16}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}

			// 1. The command line.
			var out, errOut bytes.Buffer
			if code := freetier.RunCLI(cliArgs(t, q), &out, &errOut, freetierToday); code != 0 {
				t.Fatalf("RunCLI: exit %d: %s", code, errOut.String())
			}
			cli := decodeResult(t, "CLI", out.Bytes())

			// 2. The API, GET with the page's query string.
			resp := h.get(c, "/api/v1/freetier?"+tc.query)
			body := readBody(resp)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET API: status %d: %s", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("GET API: Content-Type %q", ct)
			}
			apiGet := decodeResult(t, "GET API", []byte(body))

			// 3. The API, POST with the same input as JSON.
			in, perrs := freetier.ParseValues(q)
			if len(perrs) > 0 {
				t.Fatalf("ParseValues: %v", perrs)
			}
			js, _ := json.Marshal(in)
			resp = h.do(c, http.MethodPost, "/api/v1/freetier", string(js), map[string]string{"Content-Type": "application/json"})
			body = readBody(resp)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("POST API: status %d: %s", resp.StatusCode, body)
			}
			apiPost := decodeResult(t, "POST API", []byte(body))

			if !reflect.DeepEqual(cli, apiGet) {
				t.Errorf("CLI and GET API differ:\nCLI: %v\nAPI: %v", cli, apiGet)
			}
			if !reflect.DeepEqual(apiGet, apiPost) {
				t.Errorf("GET and POST API differ:\nGET:  %v\nPOST: %v", apiGet, apiPost)
			}

			// 4. The page: every figure it marks equals the API's, and every
			// line of the arithmetic is on it.
			resp = h.get(c, "/freetier?"+tc.query)
			page := readBody(resp)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("page: status %d: %.500s", resp.StatusCode, page)
			}
			figures := pageFigures(t, page)
			if len(figures) < 5 {
				t.Fatalf("page shows only %d figures: %v", len(figures), figures)
			}
			for key, got := range figures {
				want, ok := lookupFigure(apiGet, key)
				if !ok {
					t.Errorf("page figure %s is not in the API's result", key)
					continue
				}
				if got != want {
					t.Errorf("figure %s: page %v, API %v", key, got, want)
				}
			}
			for key, want := range tc.want {
				got, ok := lookupFigure(apiGet, key)
				if !ok || got != want {
					t.Errorf("API %s = %v (present %v), want %v", key, got, ok, want)
				}
				if pg, ok := figures[key]; !ok || pg != want {
					t.Errorf("page %s = %v (present %v), want %v", key, pg, ok, want)
				}
			}
			text := html.UnescapeString(page)
			for _, sec := range apiGet["sections"].([]any) {
				for _, line := range sec.(map[string]any)["lines"].([]any) {
					if !strings.Contains(text, line.(string)) {
						t.Errorf("page lacks the line %q", line)
					}
				}
			}
		})
	}
}

// decodeResult reads a freetier.Response and returns its "result" as
// generic JSON, so that the comparison sees exactly what a client sees.
func decodeResult(t *testing.T, who string, body []byte) map[string]any {
	t.Helper()
	var r struct {
		Result map[string]any `json:"result"`
		Errors map[string]any `json:"errors"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("%s: %v: %s", who, err, body)
	}
	if r.Result == nil || len(r.Errors) > 0 {
		t.Fatalf("%s: no result: %s", who, body)
	}
	return r.Result
}

var figureRE = regexp.MustCompile(`<data data-figure="([^"]+)" value="([^"]*)">`)

// pageFigures collects the page's <data data-figure=KEY value=V> figures.
func pageFigures(t *testing.T, page string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, m := range figureRE.FindAllStringSubmatch(page, -1) {
		f, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Errorf("figure %s: value %q is not a number", m[1], m[2])
			continue
		}
		if prev, dup := out[m[1]]; dup && prev != f {
			t.Errorf("figure %s shown twice with different values: %v and %v", m[1], prev, f)
		}
		out[m[1]] = f
	}
	return out
}

// lookupFigure follows a dotted path ("types.0.cost_usd") in JSON.
func lookupFigure(v any, path string) (float64, bool) {
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return 0, false
			}
			v = x[i]
		default:
			return 0, false
		}
	}
	f, ok := v.(float64)
	return f, ok
}

func TestFreeTierPageForm(t *testing.T) {
	h := newFreetierHarness(t)
	c := h.client()

	t.Run("empty query shows the default result", func(t *testing.T) {
		resp := h.get(c, "/freetier")
		body := readBody(resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		for _, want := range []string{
			`<form method="get" action="/freetier" id="ft-form"`,
			`id="ft-result" class="ft-result" aria-live="polite"`,
			`<svg role="img" aria-labelledby="ft-chart-title ft-chart-desc"`,
			`<title id="ft-chart-title">`, `<desc id="ft-chart-desc">`,
			`The chart's figures as a table`,
			`check yours in Service Quotas`,
			`Limit 1: what is free`, `Limit 2: the vCPU quota`,
			`aria-current="page">Free-tier calculator`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if !regexp.MustCompile(`<script src="/static/freetier\.[0-9a-f]+\.js" defer></script>`).MatchString(body) {
			t.Error("page does not load freetier.js")
		}
	})

	t.Run("the script is only on the calculator", func(t *testing.T) {
		resp := h.get(c, "/")
		if body := readBody(resp); strings.Contains(body, "/static/freetier") {
			t.Error("home page loads freetier.js")
		}
		resp = h.get(c, "/static/freetier.js")
		body := readBody(resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "replaceState") {
			t.Errorf("GET /static/freetier.js: %d", resp.StatusCode)
		}
	})

	t.Run("the form shows the query's values", func(t *testing.T) {
		resp := h.get(c, "/freetier?plan=legacy&created=2025-03-01&month=2025-12&instances=2&hours=375&type=t2.micro&type_3=t4g.micro&instances_3=1&ipv4_3=on")
		body := readBody(resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		for _, want := range []string{
			`<option value="legacy" selected>`, `name="created" type="date" value="2025-03-01"`,
			`name="month" type="month" value="2025-12"`, `name="instances" type="text" inputmode="numeric" autocomplete="off" value="2"`,
			`name="hours" type="text" inputmode="decimal" autocomplete="off" value="375"`,
			`<option value="t2.micro" selected>`, `<option value="t4g.micro" selected>`,
			`id="ft-ipv4_3" name="ipv4_3" type="checkbox" value="on" checked`,
			// A group after an empty one counts, and the share link drops the empty fields.
			`3. 1 × t4g.micro`, `href="/freetier?created=2025-03-01&amp;hours=375&amp;instances=2&amp;instances_3=1&amp;ipv4_3=on&amp;month=2025-12&amp;plan=legacy&amp;type=t2.micro&amp;type_3=t4g.micro"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
	})
}

func TestFreeTierBadInput(t *testing.T) {
	h := newFreetierHarness(t)
	c := h.client()
	cases := []struct {
		query  string
		fields []string // fields that must have a message
	}{
		{"instances=abc", []string{"instances"}},
		{"instances=-2&hours=9999", []string{"instances", "hours"}},
		{"type=t9.huge", []string{"type"}},
		{"plan=free", []string{"plan"}},
		{"created=2027-01-01", []string{"created"}},
		{"created=yesterday&month=13", []string{"created", "month"}},
		{"hours=10&hours_per_day=2", nil},
		{"ipv4=maybe", []string{"ipv4"}},
		{"ebs_gb=-1&credits_usd=1e9&vcpu_quota=x", []string{"ebs_gb", "credits_usd", "vcpu_quota"}},
		// Group 3 after an empty group 2: the message is for instances_3.
		{"type=t2.micro&type_3=t2.micro&instances_3=-1", []string{"instances_3"}},
		{"type=t2.micro&type_3=nope&hours_4=x&instances_4=1", []string{"type_3", "hours_4"}},
		{"instances=1e400&hours=NaN", []string{"instances", "hours"}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			resp := h.get(c, "/api/v1/freetier?"+tc.query)
			body := readBody(resp)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("API: status %d, want 422: %s", resp.StatusCode, body)
			}
			var e errorResponse
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" || len(e.Fields) == 0 {
				t.Fatalf("API error body %s (%v)", body, err)
			}
			for _, f := range tc.fields {
				if e.Fields[f] == "" {
					t.Errorf("API: no message for %s: %v", f, e.Fields)
				}
			}

			resp = h.get(c, "/freetier?"+tc.query)
			page := readBody(resp)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("page: status %d, want 422", resp.StatusCode)
			}
			if !strings.Contains(page, `id="ft-form"`) || strings.Contains(page, `data-figure="total_usd"`) {
				t.Error("the page should show the form and no result")
			}
			for field, msg := range e.Fields {
				esc := html.EscapeString(msg)
				// Beside the field when the form has it; in the summary always.
				if field != "groups" && strings.Contains(page, `id="ft-`+field+`"`) &&
					!strings.Contains(page, fmt.Sprintf(`id="ft-%s-error" data-error-for="%s">%s</p>`, field, field, esc)) {
					t.Errorf("page: no message beside %s (%q)", field, msg)
				}
				if !strings.Contains(page, esc) {
					t.Errorf("page lacks the message %q", msg)
				}
			}
		})
	}
}

func TestFreeTierNeverFails(t *testing.T) {
	h := newFreetierHarness(t)
	c := h.client()
	queries := []string{
		"", "instances=", "type=&instances=&hours=", "instances=0", "instances=1000000", "hours=-0", "hours=1e308",
		"hours_per_day=25", "month=0000-00", "month=9999-12", "created=2025-07-15&plan=legacy", "created=2025-07-14&plan=credits",
		"type_11=t2.micro&instances_11=3", "type_10=t2.micro", "type_2=%00&instances_2=%FF", "ebs_gb=65537", "plan=%E2%80%AE",
		"instances=2&type=c7i-flex.large&plan=credits", "credits_usd=0.01&plan=credits&instances=5&type=t3.small",
	}
	for _, q := range queries {
		for _, path := range []string{"/freetier?", "/api/v1/freetier?"} {
			resp := h.get(c, path+q)
			body := readBody(resp)
			if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("%s%s: status %d: %.300s", path, q, resp.StatusCode, body)
			}
		}
	}
}

func TestFreeTierPost(t *testing.T) {
	h := newFreetierHarness(t)
	c := h.client() // anonymous, no cookie, no CSRF token
	cases := []struct {
		body  string
		code  int
		field string
	}{
		{`{"plan":"legacy","month":"2025-12","groups":[{"type":"t2.micro","instances":2}]}`, 200, ""},
		{``, 400, "body"},
		{`{"groups":`, 400, "body"},
		{`[1,2]`, 400, "body"},
		{`{"groups":[{"type":"t2.micro","instances":"two"}]}`, 400, "body"},
		{`{"groups":[{"type":"t2.micro","count":2}]}`, 400, "body"},
		{`{"groups":[]} {}`, 400, "body"},
		{`{"groups":[]}`, 422, "groups"},
		{`{"groups":[{"type":"t2.micro","instances":1},{"type":"t2.micro","instances":-1}]}`, 422, "instances_2"},
	}
	for _, tc := range cases {
		resp := h.do(c, http.MethodPost, "/api/v1/freetier", tc.body, map[string]string{"Content-Type": "application/json"})
		body := readBody(resp)
		if resp.StatusCode != tc.code {
			t.Errorf("POST %s: status %d, want %d: %s", tc.body, resp.StatusCode, tc.code, body)
			continue
		}
		if tc.field == "" {
			continue
		}
		var e errorResponse
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Fields[tc.field] == "" {
			t.Errorf("POST %s: want a message for %s, got %s", tc.body, tc.field, body)
		}
	}
}

func TestRemapGroupErrors(t *testing.T) {
	got := remapGroupErrors(freetier.FieldErrors{
		"instances": "a", "hours_2": "b", "hours_per_day_3": "c", "ebs_gb": "d", "type_9": "e",
	}, []int{0, 2, 4})
	want := map[string]string{"instances": "a", "hours_3": "b", "hours_per_day_5": "c", "ebs_gb": "d", "type_9": "e"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
