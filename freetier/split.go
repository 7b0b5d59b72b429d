package freetier

import "strings"

// EvenSplit shares the legacy plan's 750-hour pool evenly between n
// instances in a month of monthHours hours: each may run 750/n hours for
// free (at most the whole month), and floor(750/monthHours) instances can
// run all month for free. Non-positive arguments give a zero Split.
func EvenSplit(n int, monthHours int) Split {
	if n <= 0 || monthHours <= 0 {
		return Split{Instances: max(n, 0), MonthHours: max(monthHours, 0)}
	}
	pool := Facts.LegacyPoolHours.Value
	each := min(pool/float64(n), float64(monthHours))
	return Split{
		Instances:         n,
		MonthHours:        monthHours,
		HoursEach:         round(each, 2),
		DaysEach:          round(each/24, 2),
		AllMonthInstances: int(pool) / monthHours,
		AllFree:           float64(n)*float64(monthHours) <= pool,
	}
}

// Advisor answers the grader's question "is this instance type free-tier
// eligible under this plan, and what does it cost an hour?" from Facts.
// It implements grader.FreeTierAdvisor.
type Advisor struct{}

// Advise reports whether instanceType is eligible under plan ("legacy" or
// "credits"), its on-demand price (us-east-1, Linux) and whether that price
// is known. known is false for a type not in the table (eligible is then
// false) and for a listed type without a checked price (c7i-flex.large,
// m7i-flex.large), whose eligible answer still holds. t3.micro on the
// legacy plan counts as eligible: it is free in the Regions without
// t2.micro, the only ones where the console offers it as free tier.
func (Advisor) Advise(instanceType, plan string) (eligible bool, hourlyUSD float64, known bool) {
	t, ok := LookupType(strings.ToLower(strings.TrimSpace(instanceType)))
	if !ok {
		return false, 0, false
	}
	switch Plan(strings.ToLower(strings.TrimSpace(plan))) {
	case PlanLegacy:
		eligible = t.Legacy != NotEligible
	case PlanCredits:
		eligible = t.Credits != NotEligible
	}
	return eligible, t.HourlyUSD, t.PriceKnown
}
