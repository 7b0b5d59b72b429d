package freetier

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Plan is a free-tier plan.
type Plan string

// The two plans, split by the account's creation date.
const (
	PlanLegacy  Plan = "legacy"
	PlanCredits Plan = "credits"
)

// Caps on input sizes: beyond these the input is a typo, not a plan.
const (
	MaxGroups     = 10
	MaxInstances  = 1000  // per group
	MaxEBSGB      = 65536 // 64 TiB in total
	MaxCreditsUSD = 200
	MaxVCPUQuota  = 10000
)

// earliest is the earliest creation date or month accepted (EC2 opened in 2006).
var earliest = time.Date(2006, 1, 1, 0, 0, 0, 0, time.UTC)

// Input is what the student tells the calculator. The same field names are
// used in JSON bodies, in URL query strings and form posts (see ParseValues),
// and, with dashes, as command-line flags.
type Input struct {
	// Plan is "legacy", "credits", or empty to decide it from Created
	// (legacy when both are empty, with a note saying so).
	Plan Plan `json:"plan,omitempty"`
	// Created is the account's creation date, YYYY-MM-DD; optional.
	Created string `json:"created,omitempty"`
	// Month is the calendar month to compute, YYYY-MM; empty means the
	// month of "today".
	Month string `json:"month,omitempty"`
	// Groups are the instances: at least one, at most MaxGroups.
	Groups []Group `json:"groups"`
	// EBSGB is the total EBS storage in GB kept all month.
	EBSGB float64 `json:"ebs_gb,omitempty"`
	// CreditsUSD is the credit balance at the start of the month on the
	// credit plan; 0 means the $100 sign-up credit. At most $200.
	CreditsUSD float64 `json:"credits_usd,omitempty"`
	// VCPUQuota is the account's applied vCPU quota; 0 means AWS's default (5).
	VCPUQuota int `json:"vcpu_quota,omitempty"`
}

// Group is a number of instances of one type that run the same hours.
type Group struct {
	Type      string `json:"type"`
	Instances int    `json:"instances"`
	// Hours each instance runs in the month; nil (with HoursPerDay nil)
	// means all month.
	Hours *float64 `json:"hours,omitempty"`
	// HoursPerDay each instance runs every day of the month; give Hours
	// or HoursPerDay, not both.
	HoursPerDay *float64 `json:"hours_per_day,omitempty"`
	// IPv4 says each instance has a public IPv4 address while it runs.
	IPv4 bool `json:"ipv4,omitempty"`
}

// FieldErrors maps a field name to what is wrong with it. Names are the
// query-string names of ParseValues: "plan", "created", "month", "ebs_gb",
// "credits_usd", "vcpu_quota", "groups", and for the first group "type",
// "instances", "hours", "hours_per_day", "ipv4"; group N (N >= 2) adds the
// suffix "_N", e.g. "instances_2".
type FieldErrors map[string]string

// Error lists the messages, one "field: message" a line, sorted by field.
func (e FieldErrors) Error() string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = k + ": " + e[k]
	}
	return strings.Join(lines, "\n")
}

func (e FieldErrors) add(field, msg string) {
	if _, ok := e[field]; !ok {
		e[field] = msg
	}
}

// GroupField is the field name of a group's field, e.g. GroupField(1, "hours") = "hours_2".
func GroupField(i int, name string) string {
	if i == 0 {
		return name
	}
	return fmt.Sprintf("%s_%d", name, i+1)
}

// Month is a calendar month in UTC.
type Month struct {
	Year  int
	Month time.Month
}

// ParseMonth reads YYYY-MM.
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", strings.TrimSpace(s))
	if err != nil {
		return Month{}, fmt.Errorf("want a month as YYYY-MM, e.g. 2027-02")
	}
	return Month{Year: t.Year(), Month: t.Month()}, nil
}

// MonthOf is the month a date falls in.
func MonthOf(t time.Time) Month {
	t = t.UTC()
	return Month{Year: t.Year(), Month: t.Month()}
}

// Start is the first instant of the month.
func (m Month) Start() time.Time { return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, time.UTC) }

// End is the first instant of the next month.
func (m Month) End() time.Time { return m.Start().AddDate(0, 1, 0) }

// Days is the number of days in the month (28 to 31).
func (m Month) Days() int { return int(m.End().Sub(m.Start()).Hours()) / 24 }

// Hours is the number of hours in the month (672, 696, 720 or 744).
func (m Month) Hours() int { return m.Days() * 24 }

// String formats the month as YYYY-MM.
func (m Month) String() string { return m.Start().Format("2006-01") }

// parseDate reads YYYY-MM-DD.
func parseDate(s string) (time.Time, error) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("want a date as YYYY-MM-DD, e.g. 2025-03-14")
	}
	return t, nil
}

// checked is an Input whose strings have been parsed and whose defaults are filled in.
type checked struct {
	plan        Plan
	planReason  string
	created     time.Time // zero when not given
	month       Month
	groups      []checkedGroup
	ebsGB       float64
	creditsUSD  float64
	vcpuQuota   int
	quotaGiven  bool
	defaultPlan bool
}

type checkedGroup struct {
	typ       InstanceType
	instances int
	hoursEach float64
	ipv4      bool
	label     string // how the hours were given, for the explanation
}

// Validate checks an Input against the facts and today's date (UTC) and
// returns the problems, one per field; it never panics.
func Validate(in Input, today time.Time) FieldErrors {
	_, errs := check(in, today)
	return errs
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func check(in Input, today time.Time) (checked, FieldErrors) {
	errs := FieldErrors{}
	today = today.UTC()
	c := checked{}

	if in.Created != "" {
		d, err := parseDate(in.Created)
		switch {
		case err != nil:
			errs.add("created", err.Error())
		case d.After(today):
			errs.add("created", fmt.Sprintf("%s is in the future (today is %s)", in.Created, today.Format("2006-01-02")))
		case d.Before(earliest):
			errs.add("created", "must be 2006-01-01 or later")
		default:
			c.created = d
		}
	}

	cutoff, _ := parseDate(Facts.CreditPlanFrom)
	switch p := Plan(strings.ToLower(strings.TrimSpace(string(in.Plan)))); p {
	case PlanLegacy, PlanCredits:
		c.plan = p
		c.planReason = "chosen"
		if !c.created.IsZero() {
			c.planReason = "chosen; the account was created on " + c.created.Format("2006-01-02")
			want := PlanLegacy
			if !c.created.Before(cutoff) {
				want = PlanCredits
			}
			if want != p {
				errs.add("plan", fmt.Sprintf("an account created on %s is on the %s plan (the credit plan starts with accounts created on %s)",
					c.created.Format("2006-01-02"), want, Facts.CreditPlanFrom))
			}
		}
	case "", "auto":
		switch {
		case !c.created.IsZero() && c.created.Before(cutoff):
			c.plan, c.planReason = PlanLegacy, "created before "+Facts.CreditPlanFrom
		case !c.created.IsZero():
			c.plan, c.planReason = PlanCredits, "created on or after "+Facts.CreditPlanFrom
		default:
			c.plan, c.planReason, c.defaultPlan = PlanLegacy, "assumed: no plan or creation date given", true
		}
	default:
		errs.add("plan", `want "legacy" or "credits"`)
	}

	c.month = MonthOf(today)
	if in.Month != "" {
		m, err := ParseMonth(in.Month)
		switch {
		case err != nil:
			errs.add("month", err.Error())
		case m.Start().Before(earliest):
			errs.add("month", "must be 2006-01 or later")
		case m.Start().After(today.AddDate(10, 0, 0)):
			errs.add("month", "must be within the next ten years")
		case c.plan == PlanCredits && !m.End().After(cutoff):
			errs.add("month", fmt.Sprintf("the credit plan started with accounts created on %s; pick %s or later", Facts.CreditPlanFrom, cutoff.Format("2006-01")))
		case !c.created.IsZero() && m.End().Before(c.created.AddDate(0, 0, 1)):
			errs.add("month", fmt.Sprintf("the account was created on %s; pick that month or a later one", c.created.Format("2006-01-02")))
		default:
			c.month = m
		}
	}
	monthHours := float64(c.month.Hours())

	switch {
	case !finite(in.EBSGB) || in.EBSGB < 0:
		errs.add("ebs_gb", "must be a number of GB, 0 or more")
	case in.EBSGB > MaxEBSGB:
		errs.add("ebs_gb", fmt.Sprintf("at most %d GB", MaxEBSGB))
	default:
		c.ebsGB = in.EBSGB
	}

	c.creditsUSD = Facts.CreditsSignupUSD.Value
	switch {
	case !finite(in.CreditsUSD) || in.CreditsUSD < 0 || in.CreditsUSD > MaxCreditsUSD:
		errs.add("credits_usd", fmt.Sprintf("must be between 0 and %d dollars (0 means the $%.0f sign-up credit)", MaxCreditsUSD, Facts.CreditsSignupUSD.Value))
	case in.CreditsUSD > 0:
		c.creditsUSD = in.CreditsUSD
	}

	c.vcpuQuota = int(Facts.VCPUQuota.Value)
	switch {
	case in.VCPUQuota < 0 || in.VCPUQuota > MaxVCPUQuota:
		errs.add("vcpu_quota", fmt.Sprintf("must be between 1 and %d vCPUs (0 means the default, %d)", MaxVCPUQuota, c.vcpuQuota))
	case in.VCPUQuota > 0:
		c.vcpuQuota, c.quotaGiven = in.VCPUQuota, true
	}

	switch {
	case len(in.Groups) == 0:
		errs.add("groups", "add at least one group of instances")
	case len(in.Groups) > MaxGroups:
		errs.add("groups", fmt.Sprintf("at most %d groups", MaxGroups))
	default:
		for i, g := range in.Groups {
			if cg, ok := checkGroup(i, g, monthHours, c.month.Days(), errs); ok {
				c.groups = append(c.groups, cg)
			}
		}
	}
	return c, errs
}

func checkGroup(i int, g Group, monthHours float64, days int, errs FieldErrors) (checkedGroup, bool) {
	ok := true
	fail := func(name, msg string) { errs.add(GroupField(i, name), msg); ok = false }
	cg := checkedGroup{ipv4: g.IPv4}

	name := strings.ToLower(strings.TrimSpace(g.Type))
	if t, found := LookupType(name); found {
		cg.typ = t
	} else if name == "" {
		fail("type", "choose an instance type: "+strings.Join(TypeNames(), ", "))
	} else {
		fail("type", fmt.Sprintf("unknown type %q; known: %s", g.Type, strings.Join(TypeNames(), ", ")))
	}

	switch {
	case g.Instances < 1:
		fail("instances", "must be a whole number, 1 or more")
	case g.Instances > MaxInstances:
		fail("instances", fmt.Sprintf("at most %d instances per group", MaxInstances))
	default:
		cg.instances = g.Instances
	}

	switch {
	case g.Hours != nil && g.HoursPerDay != nil:
		fail("hours", "give hours in the month or hours per day, not both")
	case g.Hours != nil:
		h := *g.Hours
		switch {
		case !finite(h) || h < 0:
			fail("hours", "must be a number of hours, 0 or more")
		case h > monthHours:
			fail("hours", fmt.Sprintf("this month has only %.0f hours", monthHours))
		default:
			cg.hoursEach = h
			cg.label = fmt.Sprintf("%s h each", num(h))
		}
	case g.HoursPerDay != nil:
		h := *g.HoursPerDay
		switch {
		case !finite(h) || h < 0:
			fail("hours_per_day", "must be a number of hours, 0 or more")
		case h > 24:
			fail("hours_per_day", "a day has only 24 hours")
		default:
			cg.hoursEach = h * float64(days)
			cg.label = fmt.Sprintf("%s h/day x %d days = %s h each", num(h), days, num(cg.hoursEach))
		}
	default:
		cg.hoursEach = monthHours
		cg.label = fmt.Sprintf("all month: 24 h x %d days = %s h each", days, num(monthHours))
	}
	return cg, ok
}
