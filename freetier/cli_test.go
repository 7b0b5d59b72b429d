package freetier

import (
	"bytes"
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestRunCLI(t *testing.T) {
	tests := []struct {
		args   []string
		code   int
		stdout []string // substrings
		stderr []string
	}{
		{[]string{"--instances", "2", "--hours", "375", "--month", "2025-12"}, 0,
			[]string{"legacy plan, 2025-12 (744 h)", "750 h / 2 instances = 375 h each", "$0.00"}, nil},
		{[]string{"--instances", "2", "--month", "2025-12", "--type", "t2.micro"}, 0,
			[]string{"1,488 - 750 = 738 h over the pool", "$8.56"}, nil},
		{[]string{"--plan", "credits", "--type", "t3.micro", "--ipv4", "--hours", "730", "--month", "2026-01"}, 0,
			[]string{"$7.59", "$3.65", "$11.24", "days"}, nil},
		{[]string{"--type", "c7i-flex.large", "--plan", "credits", "--month", "2026-01"}, 0,
			[]string{"unknown", "at least $0.00"}, nil},
		{[]string{"--instances", "-1"}, 2, nil, []string{"--instances: must be a whole number, 1 or more"}},
		{[]string{"--instances", "two"}, 2, nil, []string{"--instances: must be a whole number, e.g. 2"}},
		{[]string{"--hours", "800", "--month", "2026-02"}, 2, nil, []string{"--hours: this month has only 672 hours"}},
		{[]string{"--type", "m5.large"}, 2, nil, []string{`--type: unknown type "m5.large"`}},
		{[]string{"--created", "2030-01-01"}, 2, nil, []string{"--created:", "in the future"}},
		{[]string{"--month", "12/2025"}, 2, nil, []string{"--month: want a month as YYYY-MM"}},
		{[]string{"--plan", "free"}, 2, nil, []string{`--plan: want "legacy" or "credits"`}},
		{[]string{"--ebs", "-3"}, 2, nil, []string{"--ebs: must be a number of GB"}},
		{[]string{"--nope"}, 2, nil, []string{"flag provided but not defined: -nope", "Usage: workshop freetier"}},
		{[]string{"2"}, 2, nil, []string{`unexpected argument "2"`}},
		{[]string{"--help"}, 0, nil, []string{"Usage: workshop freetier", "-instances N"}},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := RunCLI(tt.args, &out, &errb, today)
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d (stderr %s)", tt.args, code, tt.code, errb.String())
		}
		for _, s := range tt.stdout {
			if !strings.Contains(out.String(), s) {
				t.Errorf("%v: stdout lacks %q:\n%s", tt.args, s, out.String())
			}
		}
		for _, s := range tt.stderr {
			if !strings.Contains(errb.String(), s) {
				t.Errorf("%v: stderr lacks %q:\n%s", tt.args, s, errb.String())
			}
		}
	}
}

// TestCLIJSONMatchesValues checks that the command line's --json and the
// query-string path (the page and GET API) give the same result.
func TestCLIJSONMatchesValues(t *testing.T) {
	var out, errb bytes.Buffer
	args := []string{"--instances", "2", "--hours", "500", "--month", "2025-12", "--ipv4", "--ebs", "40", "--json"}
	if code := RunCLI(args, &out, &errb, today); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var got Response
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	v, _ := url.ParseQuery("instances=2&hours=500&month=2025-12&ipv4=yes&ebs_gb=40")
	_, want, errs := CalculateValues(v, today)
	if errs != nil {
		t.Fatal(errs)
	}
	// Round-trip want through JSON too, so both sides went through the same encoding.
	b, _ := json.Marshal(Response{Result: want})
	var wantResp Response
	_ = json.Unmarshal(b, &wantResp)
	if !reflect.DeepEqual(got, wantResp) {
		t.Errorf("CLI JSON differs from CalculateValues:\n got %+v\nwant %+v", got.Result, wantResp.Result)
	}
	if got.Result.TotalUSD != 4.95 {
		t.Errorf("total %v, want 250 h x $0.0116 = $2.90 + 250 h x $0.005 = $1.25 + 10 GB x $0.08 = $0.80", got.Result.TotalUSD)
	}
}
