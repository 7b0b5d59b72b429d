package freetier

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Result is the calculator's answer: the figures, and in Sections the
// arithmetic as sentences a student can follow. Money is in USD rounded to
// cents, hours are rounded to hundredths.
type Result struct {
	Input      Input  `json:"input"`
	Plan       Plan   `json:"plan"`
	PlanReason string `json:"plan_reason"`
	Month      string `json:"month"`
	MonthDays  int    `json:"month_days"`
	MonthHours int    `json:"month_hours"`

	Groups []GroupResult `json:"groups"`
	Types  []TypeCost    `json:"types"`

	// PoolHours is the legacy plan's free instance-hours this month (750),
	// 0 on the credit plan or when the free period does not cover the month.
	PoolHours float64 `json:"pool_hours"`
	// EligibleHours are the instance-hours of types that draw on the pool.
	EligibleHours float64 `json:"eligible_hours"`
	// FreeHours are the instance-hours the pool covers.
	FreeHours float64 `json:"free_hours"`
	// OverPoolHours are eligible hours beyond the pool.
	OverPoolHours float64 `json:"over_pool_hours"`
	// BilledHours are all billed instance-hours (over the pool, plus
	// every hour of types that are not eligible).
	BilledHours float64 `json:"billed_hours"`

	InstanceUSD float64  `json:"instance_usd"`
	IPv4        IPv4Cost `json:"ipv4"`
	EBS         EBSCost  `json:"ebs"`
	TotalUSD    float64  `json:"total_usd"`
	// CostComplete is false when a type has no checked price, so
	// TotalUSD leaves its hours out and is a lower bound.
	CostComplete bool `json:"cost_complete"`

	FreePeriod FreePeriod `json:"free_period"`
	Credits    *Credits   `json:"credits,omitempty"` // credit plan only
	Split      *Split     `json:"split,omitempty"`   // legacy plan only
	Quota      Quota      `json:"quota"`

	Warnings  []string  `json:"warnings,omitempty"`
	Uncertain []string  `json:"uncertain,omitempty"`
	Sections  []Section `json:"sections"`
}

// GroupResult is one input group with its hours worked out.
type GroupResult struct {
	Type          string      `json:"type"`
	Instances     int         `json:"instances"`
	HoursEach     float64     `json:"hours_each"`
	InstanceHours float64     `json:"instance_hours"`
	IPv4          bool        `json:"ipv4"`
	Eligibility   Eligibility `json:"eligibility"`
	VCPU          int         `json:"vcpu"`
}

// TypeCost is the hours and cost of one instance type, all groups summed.
type TypeCost struct {
	Type        string      `json:"type"`
	Eligibility Eligibility `json:"eligibility"`
	Hours       float64     `json:"hours"`
	FreeHours   float64     `json:"free_hours"`
	BilledHours float64     `json:"billed_hours"`
	HourlyUSD   float64     `json:"hourly_usd"`
	PriceKnown  bool        `json:"price_known"`
	CostUSD     float64     `json:"cost_usd"`
}

// IPv4Cost is the public IPv4 addresses' hours and cost.
type IPv4Cost struct {
	Hours       float64 `json:"hours"`
	FreeHours   float64 `json:"free_hours"`
	BilledHours float64 `json:"billed_hours"`
	HourlyUSD   float64 `json:"hourly_usd"`
	CostUSD     float64 `json:"cost_usd"`
	// Uncertain is set on the credit plan, whose lack of a free IPv4
	// allowance is inferred, not quoted.
	Uncertain bool `json:"uncertain,omitempty"`
}

// EBSCost is the EBS storage over the free allowance and its cost.
type EBSCost struct {
	GB         float64 `json:"gb"`
	FreeGB     float64 `json:"free_gb"`
	BilledGB   float64 `json:"billed_gb"`
	GBMonthUSD float64 `json:"gb_month_usd"`
	CostUSD    float64 `json:"cost_usd"`
	// PriceAssumed: the EBS price is an assumption, not a checked fact.
	PriceAssumed bool `json:"price_assumed"`
}

// FreePeriod says how long the plan's free offer lasts and whether it had
// ended on the given "today".
type FreePeriod struct {
	// Status is "active", "ended" or "unknown" (no creation date given).
	Status string `json:"status"`
	// Ends is when the free offer ends, YYYY-MM-DD (legacy: 12 months
	// after sign-up; credits: the Free plan's 6 months); empty if unknown.
	Ends string `json:"ends,omitempty"`
	// CreditsExpire is when credit-plan credits expire (12 months).
	CreditsExpire string `json:"credits_expire,omitempty"`
	// CoversMonth: the free allowance or the credits apply to the month.
	CoversMonth bool `json:"covers_month"`
	// Note explains the status in a sentence.
	Note string `json:"note"`
}

// Credits is how the credit plan's balance pays for the month.
type Credits struct {
	BalanceUSD float64 `json:"balance_usd"`
	MonthlyUSD float64 `json:"monthly_usd"`
	DailyUSD   float64 `json:"daily_usd"`
	// Days the balance lasts at this rate; meaningful when RunsOut.
	Days    float64 `json:"days"`
	RunsOut bool    `json:"runs_out"`
	// RunOutDate is when they run out, YYYY-MM-DD, if the creation date is known.
	RunOutDate string `json:"run_out_date,omitempty"`
}

// Split is the legacy pool shared evenly between N instances.
type Split struct {
	Instances  int `json:"instances"`
	MonthHours int `json:"month_hours"`
	// HoursEach is 750/N, at most the month's hours.
	HoursEach float64 `json:"hours_each"`
	DaysEach  float64 `json:"days_each"`
	// AllMonthInstances is how many instances can run all month for free.
	AllMonthInstances int `json:"all_month_instances"`
	// AllFree: N instances running all month stay within the pool.
	AllFree bool `json:"all_free"`
}

// Quota is the vCPU quota, a limit separate from what is free.
type Quota struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	VCPULimit int    `json:"vcpu_limit"`
	// Default: VCPULimit is AWS's default, not the student's own value.
	Default bool `json:"default"`
	// VCPUsAllRunning is what all instances need if they run at once.
	VCPUsAllRunning int         `json:"vcpus_all_running"`
	FitsAtOnce      bool        `json:"fits_at_once"`
	PerType         []QuotaType `json:"per_type"`
}

// QuotaType is how many instances of one type fit in the quota at once.
type QuotaType struct {
	Type      string `json:"type"`
	VCPU      int    `json:"vcpu"`
	MaxAtOnce int    `json:"max_at_once"`
}

// Section is a titled part of the explanation.
type Section struct {
	Title string   `json:"title"`
	Lines []string `json:"lines"`
}

// Response is the JSON body of the calculator's API and of the command
// line's --json: a result, or the field errors.
type Response struct {
	Result *Result     `json:"result,omitempty"`
	Errors FieldErrors `json:"errors,omitempty"`
}

// round rounds to n decimals; monotone, so costs stay monotone.
func round(f float64, n int) float64 {
	p := math.Pow(10, float64(n))
	return math.Round(f*p) / p
}

// cents rounds money to cents.
func cents(f float64) float64 { return round(f, 2) }

// num formats a number for a sentence: thousands separators, at most two
// decimals, no trailing zeros (1488 -> "1,488", 107.142857 -> "107.14").
func num(f float64) string {
	s := strconv.FormatFloat(round(f, 2), 'f', -1, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	out := b.String()
	if hasFrac {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

// usd formats money to cents.
func usd(f float64) string { return fmt.Sprintf("$%.2f", f) }

// rate formats an hourly price with as many decimals as it needs.
func rate(f float64) string { return "$" + strconv.FormatFloat(f, 'f', -1, 64) }
