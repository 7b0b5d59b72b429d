package freetier

import (
	"math"
	"strings"
	"testing"
	"time"
)

// today is the fixed "now" of the tests.
var today = time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)

func hrs(f float64) *float64 { return &f }

func TestCalculate(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		// want
		monthHours    int
		eligibleHours float64
		overPool      float64
		billed        float64
		instanceUSD   float64
		ipv4USD       float64
		totalUSD      float64
		complete      bool
		covers        bool
		status        string
		warn          string // a substring of one warning, if any
	}{
		{
			name: "1 instance all of a 31-day month fits in 750 h",
			in:   Input{Plan: PlanLegacy, Month: "2025-12", Groups: []Group{{Type: "t2.micro", Instances: 1}}},
			// 744 h <= 750 h
			monthHours: 744, eligibleHours: 744, complete: true, covers: true, status: "ended",
		},
		{
			name:       "2 instances x 375 h is exactly the pool",
			in:         Input{Plan: PlanLegacy, Month: "2025-10", Groups: []Group{{Type: "t2.micro", Instances: 2, Hours: hrs(375)}}},
			monthHours: 744, eligibleHours: 750, complete: true, covers: true, status: "ended",
		},
		{
			name: "2 instances all of a 31-day month: 1,488 h, 738 billed",
			in:   Input{Plan: PlanLegacy, Month: "2025-12", Groups: []Group{{Type: "t2.micro", Instances: 2}}},
			// 738 x 0.0116 = 8.5608
			monthHours: 744, eligibleHours: 1488, overPool: 738, billed: 738, instanceUSD: 8.56, totalUSD: 8.56,
			complete: true, covers: true, status: "ended",
		},
		{
			name: "February: 2 instances all month, 672 h each",
			in:   Input{Plan: PlanLegacy, Month: "2026-02", Groups: []Group{{Type: "t2.micro", Instances: 2}}},
			// 1,344 - 750 = 594; 594 x 0.0116 = 6.8904
			monthHours: 672, eligibleHours: 1344, overPool: 594, billed: 594, instanceUSD: 6.89, totalUSD: 6.89,
			complete: true, covers: true, status: "ended",
		},
		{
			name: "leap February: 2 instances all month, 696 h each",
			in:   Input{Plan: PlanLegacy, Month: "2024-02", Groups: []Group{{Type: "t2.micro", Instances: 2}}},
			// 1,392 - 750 = 642; 642 x 0.0116 = 7.4472
			monthHours: 696, eligibleHours: 1392, overPool: 642, billed: 642, instanceUSD: 7.45, totalUSD: 7.45,
			complete: true, covers: true, status: "ended",
		},
		{
			name: "credit plan, t3.micro all of a 31-day month with IPv4",
			in: Input{Created: "2026-09-01", Month: "2026-10",
				Groups: []Group{{Type: "t3.micro", Instances: 1, IPv4: true}}},
			// 744 x 0.0104 = 7.7376; 744 x 0.005 = 3.72
			monthHours: 744, billed: 744, instanceUSD: 7.74, ipv4USD: 3.72, totalUSD: 11.46,
			complete: true, covers: true, status: "active",
		},
		{
			name: "credit plan, t3.micro for AWS's 730-hour month",
			in: Input{Plan: PlanCredits, Month: "2026-01",
				Groups: []Group{{Type: "t3.micro", Instances: 1, Hours: hrs(730), IPv4: true}}},
			// 730 x 0.0104 = 7.592; 730 x 0.005 = 3.65
			monthHours: 744, billed: 730, instanceUSD: 7.59, ipv4USD: 3.65, totalUSD: 11.24,
			complete: true, covers: true, status: "unknown",
		},
		{
			name: "legacy account whose 12 months ended before the month pays every hour",
			in: Input{Created: "2024-03-01", Month: "2025-12",
				Groups: []Group{{Type: "t2.micro", Instances: 2}}},
			// 1,488 x 0.0116 = 17.2608
			monthHours: 744, eligibleHours: 1488, overPool: 1488, billed: 1488, instanceUSD: 17.26, totalUSD: 17.26,
			complete: true, covers: false, status: "ended",
		},
		{
			name: "legacy: t3.small is not eligible",
			in: Input{Created: "2025-06-01", Month: "2025-09",
				Groups: []Group{{Type: "t3.small", Instances: 1, HoursPerDay: hrs(10)}}},
			// 10 x 30 = 300 h x 0.0208 = 6.24
			monthHours: 720, billed: 300, instanceUSD: 6.24, totalUSD: 6.24,
			complete: true, covers: true, status: "ended", warn: "not free-tier eligible",
		},
		{
			name:       "credit plan: flex type has no checked price",
			in:         Input{Plan: PlanCredits, Month: "2026-04", Groups: []Group{{Type: "c7i-flex.large", Instances: 1}}},
			monthHours: 720, billed: 720, complete: false, covers: true, status: "unknown", warn: "No checked price",
		},
		{
			name: "credit plan refuses t2.micro on the Free plan",
			in:   Input{Plan: PlanCredits, Month: "2026-04", Groups: []Group{{Type: "t2.micro", Instances: 1, Hours: hrs(100)}}},
			// 100 x 0.0116 = 1.16
			monthHours: 720, billed: 100, instanceUSD: 1.16, totalUSD: 1.16, complete: true, covers: true, status: "unknown",
			warn: "refused on the credit plan's Free plan",
		},
		{
			name: "quota: three 2-vCPU instances need 6 vCPUs",
			in:   Input{Plan: PlanCredits, Month: "2026-04", Groups: []Group{{Type: "t3.micro", Instances: 3, Hours: hrs(1)}}},
			// 3 x 1 x 0.0104 = 0.0312
			monthHours: 720, billed: 3, instanceUSD: 0.03, totalUSD: 0.03, complete: true, covers: true, status: "unknown",
			warn: "more than the quota of 5",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := Calculate(tt.in, today)
			if len(errs) > 0 {
				t.Fatalf("Calculate errors: %v", errs)
			}
			check := func(what string, got, want float64) {
				t.Helper()
				if math.Abs(got-want) > 1e-9 {
					t.Errorf("%s = %v, want %v", what, got, want)
				}
			}
			if got.MonthHours != tt.monthHours {
				t.Errorf("MonthHours = %d, want %d", got.MonthHours, tt.monthHours)
			}
			check("EligibleHours", got.EligibleHours, tt.eligibleHours)
			check("OverPoolHours", got.OverPoolHours, tt.overPool)
			check("BilledHours", got.BilledHours, tt.billed)
			check("InstanceUSD", got.InstanceUSD, tt.instanceUSD)
			check("IPv4.CostUSD", got.IPv4.CostUSD, tt.ipv4USD)
			check("TotalUSD", got.TotalUSD, tt.totalUSD)
			if got.CostComplete != tt.complete {
				t.Errorf("CostComplete = %v, want %v", got.CostComplete, tt.complete)
			}
			if got.FreePeriod.CoversMonth != tt.covers || got.FreePeriod.Status != tt.status {
				t.Errorf("FreePeriod = %+v, want covers %v status %s", got.FreePeriod, tt.covers, tt.status)
			}
			if tt.warn != "" && !strings.Contains(strings.Join(got.Warnings, "\n"), tt.warn) {
				t.Errorf("warnings %q lack %q", got.Warnings, tt.warn)
			}
			if len(got.Sections) == 0 {
				t.Error("no explanation")
			}
		})
	}
}

func TestCalculateShowsArithmetic(t *testing.T) {
	got, errs := Calculate(Input{Plan: PlanLegacy, Month: "2025-12", Groups: []Group{{Type: "t2.micro", Instances: 2}}}, today)
	if errs != nil {
		t.Fatal(errs)
	}
	var all []string
	for _, s := range got.Sections {
		all = append(all, s.Lines...)
	}
	text := strings.Join(all, "\n")
	for _, want := range []string{
		"2 x 744 = 1,488 instance-hours",
		"1,488 - 750 = 738 h over the pool",
		"738 h billed x $0.0116/h = $8.56",
		"750 h / 2 instances = 375 h each",
		"quota L-1216C47A",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explanation lacks %q:\n%s", want, text)
		}
	}
}

func TestCreditsLast(t *testing.T) {
	in := Input{Plan: PlanCredits, Month: "2026-01", Groups: []Group{{Type: "t3.micro", Instances: 1, IPv4: true}}}
	for _, tc := range []struct {
		credits float64
		days    float64
	}{
		{0, 270.5},   // $100 / ($11.46 / 31) = 270.51
		{200, 541.0}, // $200 / ($11.46 / 31) = 541.01
	} {
		in.CreditsUSD = tc.credits
		got, errs := Calculate(in, today)
		if errs != nil {
			t.Fatal(errs)
		}
		if got.Credits == nil || !got.Credits.RunsOut || got.Credits.Days != tc.days {
			t.Errorf("credits %v: got %+v, want %v days", tc.credits, got.Credits, tc.days)
		}
	}
}

func TestCreditsRunOutDate(t *testing.T) {
	// $4.00 a day in a 30-day month ($120) from $100: 25 days, before the Free plan ends.
	in := Input{Created: "2026-09-10", Month: "2026-11", Groups: []Group{{Type: "t3.small", Instances: 8}}}
	got, errs := Calculate(in, today)
	if errs != nil {
		t.Fatal(errs)
	}
	// 8 x 720 h x $0.0208 = $119.81; $100 / ($119.81 / 30) = 25.04 days
	if got.TotalUSD != 119.81 || got.Credits.Days != 25 || got.Credits.RunOutDate != "2026-11-26" {
		t.Errorf("got $%v, %v days, runs out %s", got.TotalUSD, got.Credits.Days, got.Credits.RunOutDate)
	}
}

func TestIPv4FreeBeforeFebruary2024(t *testing.T) {
	in := Input{Plan: PlanLegacy, Month: "2024-01", Groups: []Group{{Type: "t2.micro", Instances: 2, IPv4: true}}}
	got, errs := Calculate(in, today)
	if errs != nil {
		t.Fatal(errs)
	}
	if got.IPv4.CostUSD != 0 || got.IPv4.Hours != 1488 {
		t.Errorf("IPv4 %+v", got.IPv4)
	}
	in.Month = "2024-02"
	got, _ = Calculate(in, today)
	// 2 x 696 = 1,392 h - 750 free = 642 h x $0.005 = $3.21
	if got.IPv4.CostUSD != 3.21 {
		t.Errorf("IPv4 in 2024-02 %+v", got.IPv4)
	}
}

func TestEvenSplit(t *testing.T) {
	tests := []struct {
		n, monthHours int
		want          Split
	}{
		{1, 744, Split{Instances: 1, MonthHours: 744, HoursEach: 744, DaysEach: 31, AllMonthInstances: 1, AllFree: true}},
		{2, 744, Split{Instances: 2, MonthHours: 744, HoursEach: 375, DaysEach: 15.63, AllMonthInstances: 1}},
		{3, 672, Split{Instances: 3, MonthHours: 672, HoursEach: 250, DaysEach: 10.42, AllMonthInstances: 1}},
		{7, 720, Split{Instances: 7, MonthHours: 720, HoursEach: 107.14, DaysEach: 4.46, AllMonthInstances: 1}},
		{0, 720, Split{MonthHours: 720}},
		{-3, -1, Split{}},
	}
	for _, tt := range tests {
		if got := EvenSplit(tt.n, tt.monthHours); got != tt.want {
			t.Errorf("EvenSplit(%d, %d) = %+v, want %+v", tt.n, tt.monthHours, got, tt.want)
		}
	}
}

func TestAdvisor(t *testing.T) {
	tests := []struct {
		typ, plan string
		eligible  bool
		hourly    float64
		known     bool
	}{
		{"t2.micro", "legacy", true, 0.0116, true},
		{"t2.micro", "credits", false, 0.0116, true},
		{"t3.micro", "credits", true, 0.0104, true},
		{"t3.micro", "legacy", true, 0.0104, true},
		{"t3.small", "legacy", false, 0.0208, true},
		{"m7i-flex.large", "credits", true, 0, false},
		{"m5.large", "credits", false, 0, false},
		{"T2.Micro ", "legacy", true, 0.0116, true},
	}
	var a Advisor
	for _, tt := range tests {
		e, h, k := a.Advise(tt.typ, tt.plan)
		if e != tt.eligible || h != tt.hourly || k != tt.known {
			t.Errorf("Advise(%q, %q) = %v, %v, %v; want %v, %v, %v", tt.typ, tt.plan, e, h, k, tt.eligible, tt.hourly, tt.known)
		}
	}
}

func TestMonthHours(t *testing.T) {
	for _, tc := range []struct {
		month string
		hours int
	}{{"2026-02", 672}, {"2024-02", 696}, {"2026-04", 720}, {"2026-01", 744}, {"2100-02", 672}, {"2000-02", 696}} {
		m, err := ParseMonth(tc.month)
		if err != nil || m.Hours() != tc.hours {
			t.Errorf("%s: %d hours (err %v), want %d", tc.month, m.Hours(), err, tc.hours)
		}
	}
}

func TestFactsComplete(t *testing.T) {
	for _, ty := range Facts.Types {
		if ty.Source == "" || ty.Checked == "" || ty.VCPU <= 0 {
			t.Errorf("type %s lacks source, date or vCPU", ty.Name)
		}
		if ty.PriceKnown != (ty.HourlyUSD > 0) {
			t.Errorf("type %s: PriceKnown %v but price %v", ty.Name, ty.PriceKnown, ty.HourlyUSD)
		}
	}
	for name, f := range map[string]Fact{
		"pool": Facts.LegacyPoolHours, "ipv4": Facts.IPv4HourlyUSD, "quota": Facts.VCPUQuota, "ebs": Facts.EBSGBMonthUSD,
	} {
		if f.Source == "" || f.Checked == "" {
			t.Errorf("fact %s lacks a source or date", name)
		}
	}
}
