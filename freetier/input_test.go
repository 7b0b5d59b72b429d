package freetier

import (
	"math"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	one := func(g Group) Input { return Input{Plan: PlanLegacy, Month: "2025-12", Groups: []Group{g}} }
	tests := []struct {
		name  string
		in    Input
		field string // the field that must have an error
		msg   string // a substring of its message
	}{
		{"negative count", one(Group{Type: "t2.micro", Instances: -1}), "instances", "1 or more"},
		{"zero count", one(Group{Type: "t2.micro", Instances: 0}), "instances", "1 or more"},
		{"absurd count", one(Group{Type: "t2.micro", Instances: 5000}), "instances", "at most 1000"},
		{"hours over the month", one(Group{Type: "t2.micro", Instances: 1, Hours: hrs(745)}), "hours", "only 744 hours"},
		{"hours over a February", Input{Plan: PlanLegacy, Month: "2026-02", Groups: []Group{{Type: "t2.micro", Instances: 1, Hours: hrs(700)}}}, "hours", "only 672 hours"},
		{"negative hours", one(Group{Type: "t2.micro", Instances: 1, Hours: hrs(-1)}), "hours", "0 or more"},
		{"NaN hours", one(Group{Type: "t2.micro", Instances: 1, Hours: hrs(math.NaN())}), "hours", "0 or more"},
		{"hours per day over 24", one(Group{Type: "t2.micro", Instances: 1, HoursPerDay: hrs(25)}), "hours_per_day", "24 hours"},
		{"both hours forms", one(Group{Type: "t2.micro", Instances: 1, Hours: hrs(1), HoursPerDay: hrs(1)}), "hours", "not both"},
		{"unknown type", one(Group{Type: "m5.large", Instances: 1}), "type", `unknown type "m5.large"`},
		{"empty type", one(Group{Instances: 1}), "type", "choose an instance type"},
		{"creation date in the future", Input{Created: "2027-01-01", Groups: []Group{{Type: "t3.micro", Instances: 1}}}, "created", "in the future"},
		{"creation date malformed", Input{Created: "01/02/2025", Groups: []Group{{Type: "t3.micro", Instances: 1}}}, "created", "YYYY-MM-DD"},
		{"plan contradicts the date", Input{Plan: PlanLegacy, Created: "2025-08-01", Groups: []Group{{Type: "t3.micro", Instances: 1}}}, "plan", "credits plan"},
		{"credit plan before it existed", Input{Plan: PlanCredits, Month: "2025-06", Groups: []Group{{Type: "t3.micro", Instances: 1}}}, "month", "pick 2025-07 or later"},
		{"unknown plan", Input{Plan: "free", Groups: []Group{{Type: "t3.micro", Instances: 1}}}, "plan", `"legacy" or "credits"`},
		{"month malformed", Input{Month: "December", Groups: []Group{{Type: "t2.micro", Instances: 1}}}, "month", "YYYY-MM"},
		{"month before the account", Input{Created: "2025-03-10", Month: "2025-01", Groups: []Group{{Type: "t2.micro", Instances: 1}}}, "month", "created on 2025-03-10"},
		{"month far ahead", Input{Month: "2040-01", Groups: []Group{{Type: "t2.micro", Instances: 1}}}, "month", "ten years"},
		{"negative EBS", Input{EBSGB: -5, Groups: []Group{{Type: "t2.micro", Instances: 1}}}, "ebs_gb", "0 or more"},
		{"absurd EBS", Input{EBSGB: 1e9, Groups: []Group{{Type: "t2.micro", Instances: 1}}}, "ebs_gb", "at most"},
		{"credits over 200", Input{CreditsUSD: 500, Groups: []Group{{Type: "t3.micro", Instances: 1}}}, "credits_usd", "between 0 and 200"},
		{"negative quota", Input{VCPUQuota: -1, Groups: []Group{{Type: "t3.micro", Instances: 1}}}, "vcpu_quota", "between 1"},
		{"no groups", Input{}, "groups", "at least one"},
		{"too many groups", Input{Groups: make([]Group, 11)}, "groups", "at most 10"},
		{"second group named with a suffix", Input{Groups: []Group{{Type: "t2.micro", Instances: 1}, {Type: "t2.micro", Instances: -2}}}, "instances_2", "1 or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := Validate(tt.in, today)
			if !strings.Contains(errs[tt.field], tt.msg) {
				t.Errorf("errs[%q] = %q, want it to contain %q (all: %v)", tt.field, errs[tt.field], tt.msg, errs)
			}
			if res, errs2 := Calculate(tt.in, today); res != nil || len(errs2) == 0 {
				t.Errorf("Calculate gave a result for invalid input")
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	tests := []struct {
		query string
		want  Input
		errs  FieldErrors
	}{
		{
			query: "instances=2&hours=375",
			want:  Input{Groups: []Group{{Type: "t2.micro", Instances: 2, Hours: hrs(375)}}},
		},
		{
			query: "plan=credits&ipv4=on&month=2026-01&ebs_gb=8&credits_usd=200",
			want: Input{Plan: PlanCredits, Month: "2026-01", EBSGB: 8, CreditsUSD: 200,
				Groups: []Group{{Type: "t3.micro", Instances: 1, IPv4: true}}},
		},
		{
			query: "type=t2.micro&instances=1&type_2=t3.small&instances_2=3&hours_per_day_2=8",
			want: Input{Groups: []Group{{Type: "t2.micro", Instances: 1},
				{Type: "t3.small", Instances: 3, HoursPerDay: hrs(8)}}},
		},
		{
			query: "instances=two&hours=lots&ipv4=maybe&ebs_gb=1e999",
			want:  Input{Groups: []Group{{Type: "t2.micro", Instances: 1, Hours: hrs(0)}}},
			errs: FieldErrors{"instances": "must be a whole number, e.g. 2", "hours": "must be a number, e.g. 375 or 12.5",
				"ipv4": "must be yes or no", "ebs_gb": "must be a number, e.g. 375 or 12.5"},
		},
	}
	for _, tt := range tests {
		v, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		got, errs := ParseValues(v)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseValues(%q) = %+v, want %+v", tt.query, got, tt.want)
		}
		if len(errs) != len(tt.errs) || (len(errs) > 0 && !reflect.DeepEqual(errs, tt.errs)) {
			t.Errorf("ParseValues(%q) errors = %v, want %v", tt.query, errs, tt.errs)
		}
	}
}

func TestValuesRoundTrip(t *testing.T) {
	in := Input{Plan: PlanCredits, Created: "2025-09-01", Month: "2026-01", EBSGB: 12.5, CreditsUSD: 150, VCPUQuota: 16,
		Groups: []Group{{Type: "t3.micro", Instances: 2, Hours: hrs(375), IPv4: true}, {Type: "t4g.small", Instances: 1, HoursPerDay: hrs(8)}}}
	got, errs := ParseValues(in.Values())
	if len(errs) > 0 || !reflect.DeepEqual(got, in) {
		t.Errorf("round trip: got %+v (%v), want %+v", got, errs, in)
	}
}

func TestCalculateValuesReportsAllFields(t *testing.T) {
	v := url.Values{"instances": {"x"}, "type": {"m5.large"}, "created": {"2030-01-01"}}
	_, res, errs := CalculateValues(v, today)
	if res != nil {
		t.Fatal("result for bad input")
	}
	for _, f := range []string{"instances", "type", "created"} {
		if errs[f] == "" {
			t.Errorf("no error for %s: %v", f, errs)
		}
	}
}
