package freetier

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Calculate works out a month's free-tier hours and costs for in, as of
// today (injected; only used for "has the free period ended?" and to
// reject future dates). It returns field errors instead of a result when
// the input is invalid, and never panics.
//
// How billed hours are allocated on the legacy plan: the 750-hour pool is
// shared by all eligible types; the hours over the pool are split between
// the eligible types in proportion to each type's hours. (With one
// eligible type, the usual case, this is simply "hours - 750".)
// Non-eligible types pay for every hour.
func Calculate(in Input, today time.Time) (*Result, FieldErrors) {
	c, errs := check(in, today)
	if len(errs) > 0 {
		return nil, errs
	}
	today = today.UTC()
	r := &Result{
		Input: in, Plan: c.plan, PlanReason: c.planReason,
		Month: c.month.String(), MonthDays: c.month.Days(), MonthHours: c.month.Hours(),
		CostComplete: true,
	}
	plan := []string{fmt.Sprintf("Plan: %s (%s).", c.plan, c.planReason)}
	if c.defaultPlan {
		r.Warnings = append(r.Warnings, "No plan or creation date given: showing the legacy plan (accounts created before "+Facts.CreditPlanFrom+"). Give the creation date to get your own plan.")
	}
	r.FreePeriod = freePeriod(c, today)
	plan = append(plan, r.FreePeriod.Note)
	r.section("Plan", plan...)
	r.section("Month", fmt.Sprintf("%s has %d days x 24 h = %s h.", r.Month, r.MonthDays, num(float64(r.MonthHours))))

	r.instanceHours(c)
	covered := r.FreePeriod.CoversMonth
	if c.plan == PlanLegacy {
		r.legacyPool(c, covered)
	} else {
		r.creditHours()
	}
	r.priceTypes()
	r.ipv4(c, covered)
	r.ebs(c, covered)

	r.TotalUSD = cents(r.InstanceUSD + r.IPv4.CostUSD + r.EBS.CostUSD)
	total := fmt.Sprintf("Instances %s + public IPv4 %s + EBS %s = %s this month.",
		usd(r.InstanceUSD), usd(r.IPv4.CostUSD), usd(r.EBS.CostUSD), usd(r.TotalUSD))
	if !r.CostComplete {
		total += " This is a lower bound: some types have no checked price."
	}
	r.section("Total", total)

	if c.plan == PlanCredits {
		r.credits(c)
	} else {
		r.split(c)
	}
	r.quota(c)
	if c.plan == PlanLegacy {
		r.Uncertain = append(r.Uncertain, "Assumes Linux: Windows micro usage is said to have its own 750-hour pool (uncertain).")
	}
	return r, nil
}

func (r *Result) section(title string, lines ...string) {
	r.Sections = append(r.Sections, Section{Title: title, Lines: lines})
}

func day(t time.Time) string { return t.Format("2006-01-02") }

// freePeriod works out the plan's free period and whether it covers the month.
func freePeriod(c checked, today time.Time) FreePeriod {
	start, end := c.month.Start(), c.month.End()
	if c.plan == PlanLegacy {
		if c.created.IsZero() {
			cutoff, _ := parseDate(Facts.CreditPlanFrom)
			last := cutoff.AddDate(0, int(Facts.LegacyMonths.Value), -1)
			fp := FreePeriod{Status: "unknown", CoversMonth: true,
				Note: fmt.Sprintf("Free period: %.0f months from sign-up; without a creation date this assumes %s is inside it.", Facts.LegacyMonths.Value, c.month)}
			if !today.Before(last) {
				fp.Status = "ended"
				fp.Note = fmt.Sprintf("Free period: %.0f months from sign-up, so every legacy offer had ended by about %s; without a creation date this assumes %s was inside yours.", Facts.LegacyMonths.Value, day(last), c.month)
			}
			if !start.Before(last) {
				fp.Note += fmt.Sprintf(" No legacy account still had free hours in %s: the figures below show the legacy plan's arithmetic as if it did; in reality every hour is billed.", c.month)
			}
			return fp
		}
		ends := c.created.AddDate(0, int(Facts.LegacyMonths.Value), 0)
		fp := FreePeriod{Ends: day(ends), Status: "active"}
		if !today.Before(ends) {
			fp.Status = "ended"
		}
		fp.Note = fmt.Sprintf("Free period: %.0f months from %s, until %s (%s on %s).",
			Facts.LegacyMonths.Value, day(c.created), day(ends), fp.Status, day(today))
		switch {
		case !start.Before(ends):
			fp.Note += fmt.Sprintf(" It does not cover %s: every hour is billed.", c.month)
		case end.After(ends):
			fp.CoversMonth = true
			fp.Note += fmt.Sprintf(" It ends during %s; this counts the whole month's allowance (how AWS prorates the last month is not in the checked facts).", c.month)
		default:
			fp.CoversMonth = true
		}
		return fp
	}
	if c.created.IsZero() {
		return FreePeriod{Status: "unknown", CoversMonth: true,
			Note: fmt.Sprintf("Free plan: %.0f months from sign-up or until the credits run out; credits expire after %.0f months. Without a creation date this assumes %s is inside them.",
				Facts.FreePlanMonths.Value, Facts.CreditsMonths.Value, c.month)}
	}
	ends := c.created.AddDate(0, int(Facts.FreePlanMonths.Value), 0)
	expire := c.created.AddDate(0, int(Facts.CreditsMonths.Value), 0)
	fp := FreePeriod{Ends: day(ends), CreditsExpire: day(expire), Status: "active", CoversMonth: start.Before(expire)}
	if !today.Before(ends) {
		fp.Status = "ended"
	}
	fp.Note = fmt.Sprintf("Free plan: %.0f months from %s, until %s (%s on %s), or sooner if the credits run out; then the account closes unless upgraded to the Paid plan. Credits expire on %s.",
		Facts.FreePlanMonths.Value, day(c.created), day(ends), fp.Status, day(today), day(expire))
	if !fp.CoversMonth {
		fp.Note += fmt.Sprintf(" The credits have expired by %s: every dollar below is paid.", c.month)
	} else if !start.Before(ends) {
		fp.Note += fmt.Sprintf(" %s is after the Free plan: only a Paid-plan account still runs, drawing on remaining credits.", c.month)
	}
	return fp
}

// instanceHours fills Groups and Types (hours only).
func (r *Result) instanceHours(c checked) {
	var lines []string
	index := map[string]int{}
	for _, g := range c.groups {
		el := g.typ.Eligibility(c.plan)
		gr := GroupResult{Type: g.typ.Name, Instances: g.instances, HoursEach: round(g.hoursEach, 2),
			InstanceHours: round(float64(g.instances)*g.hoursEach, 2), IPv4: g.ipv4, Eligibility: el, VCPU: g.typ.VCPU}
		r.Groups = append(r.Groups, gr)
		lines = append(lines, fmt.Sprintf("%d x %s, %s; %d x %s = %s instance-hours.",
			g.instances, g.typ.Name, g.label, g.instances, num(g.hoursEach), num(float64(g.instances)*g.hoursEach)))
		i, ok := index[g.typ.Name]
		if !ok {
			i = len(r.Types)
			index[g.typ.Name] = i
			r.Types = append(r.Types, TypeCost{Type: g.typ.Name, Eligibility: el,
				HourlyUSD: g.typ.HourlyUSD, PriceKnown: g.typ.PriceKnown})
		}
		r.Types[i].Hours += float64(g.instances) * g.hoursEach
	}
	r.section("Instance hours", lines...)
	for _, t := range r.Types {
		typ, _ := LookupType(t.Type)
		switch t.Eligibility {
		case NotEligible:
			if r.Plan == PlanLegacy {
				r.Warnings = append(r.Warnings, fmt.Sprintf("%s is not free-tier eligible on the legacy plan: all its hours are billed.", t.Type))
			} else {
				r.Warnings = append(r.Warnings, fmt.Sprintf("%s is refused on the credit plan's Free plan; it runs only after upgrading to the Paid plan, billed from credits as shown.", t.Type))
			}
		case Regional:
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s counts toward the legacy 750 h only in Regions without t2.micro (the console marks it \"Free tier eligible\" there); elsewhere all its hours are billed at %s/h.", t.Type, rate(typ.HourlyUSD)))
		}
		if !t.PriceKnown {
			r.CostComplete = false
			r.Warnings = append(r.Warnings, fmt.Sprintf("No checked price for %s: its cost is left out, so the total is a lower bound.", t.Type))
		}
		if strings.HasPrefix(t.Type, "t3.") || strings.HasPrefix(t.Type, "t4g.") {
			r.Uncertain = appendOnce(r.Uncertain, "T3 and T4g start in unlimited CPU-credit mode: sustained high CPU can add charges beyond these rates.")
		}
	}
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// legacyPool applies the 750-hour pool to the eligible types.
func (r *Result) legacyPool(c checked, covered bool) {
	pool := 0.0
	if covered {
		pool = Facts.LegacyPoolHours.Value
	}
	var eligible float64
	var names []string
	for _, t := range r.Types {
		if t.Eligibility != NotEligible {
			eligible += t.Hours
			names = append(names, t.Type)
		}
	}
	free := math.Min(pool, eligible)
	over := eligible - free
	var lines []string
	if !covered {
		lines = append(lines, "The free period does not cover this month: no free hours.")
	}
	lines = append(lines, fmt.Sprintf("Eligible instance-hours: %s (%s) against a free pool of %s h.", num(eligible), listOr(names, "none"), num(pool)))
	if over > 0 {
		lines = append(lines, fmt.Sprintf("%s - %s = %s h over the pool, billed.", num(eligible), num(pool), num(over)))
	} else {
		lines = append(lines, fmt.Sprintf("%s h <= %s h: within the pool, free (%s h of the pool left unused; unused hours do not roll over).", num(eligible), num(pool), num(pool-eligible)))
	}
	for i := range r.Types {
		t := &r.Types[i]
		if t.Eligibility == NotEligible {
			t.BilledHours = t.Hours
			continue
		}
		if eligible > 0 {
			t.BilledHours = t.Hours * over / eligible
		}
		t.FreeHours = t.Hours - t.BilledHours
		if over > 0 && len(names) > 1 {
			lines = append(lines, fmt.Sprintf("Shared in proportion to hours: %s %s x %s/%s = %s h billed.",
				t.Type, num(t.Hours), num(over), num(eligible), num(t.BilledHours)))
		}
	}
	r.PoolHours, r.EligibleHours = pool, round(eligible, 2)
	r.FreeHours, r.OverPoolHours = round(free, 2), round(over, 2)
	r.section("Free pool (legacy)", lines...)
}

// creditHours: the credit plan has no hour pool; every hour is billed.
func (r *Result) creditHours() {
	for i := range r.Types {
		r.Types[i].BilledHours = r.Types[i].Hours
	}
	r.section("Hours (credit plan)", "The credit plan has no hour pool: every instance-hour is billed at the on-demand rate and paid from the credits.")
}

// priceTypes prices each type's billed hours.
func (r *Result) priceTypes() {
	var lines []string
	var billed, total float64
	for i := range r.Types {
		t := &r.Types[i]
		billed += t.BilledHours
		switch {
		case !t.PriceKnown:
			lines = append(lines, fmt.Sprintf("%s: %s h billed x price unknown = not computed.", t.Type, num(t.BilledHours)))
		default:
			t.CostUSD = cents(t.BilledHours * t.HourlyUSD)
			total += t.CostUSD
			lines = append(lines, fmt.Sprintf("%s: %s h billed x %s/h = %s.", t.Type, num(t.BilledHours), rate(t.HourlyUSD), usd(t.CostUSD)))
		}
		t.Hours, t.FreeHours, t.BilledHours = round(t.Hours, 2), round(t.FreeHours, 2), round(t.BilledHours, 2)
	}
	r.BilledHours = round(billed, 2)
	r.InstanceUSD = cents(total)
	lines = append(lines, "Prices: on demand, us-east-1, Linux; other Regions differ.")
	r.section("Instance cost", lines...)
}

// ipv4 prices public IPv4 addresses while their instances run.
func (r *Result) ipv4(c checked, covered bool) {
	var hours float64
	for _, g := range c.groups {
		if g.ipv4 {
			hours += float64(g.instances) * g.hoursEach
		}
	}
	free := 0.0
	if c.plan == PlanLegacy && covered {
		free = math.Min(hours, Facts.LegacyIPv4Hours.Value)
	}
	p := Facts.IPv4HourlyUSD.Value
	if from, _ := parseDate(Facts.IPv4ChargedFrom); hours > 0 && !c.month.End().After(from) {
		r.IPv4 = IPv4Cost{Hours: round(hours, 2), FreeHours: round(hours, 2), HourlyUSD: 0}
		r.section("Public IPv4", fmt.Sprintf("Public IPv4 addresses were free until %s: nothing to pay in %s.", Facts.IPv4ChargedFrom, c.month))
		return
	}
	r.IPv4 = IPv4Cost{Hours: round(hours, 2), FreeHours: round(free, 2), BilledHours: round(hours-free, 2),
		HourlyUSD: p, CostUSD: cents((hours - free) * p), Uncertain: c.plan == PlanCredits && hours > 0}
	if hours == 0 {
		r.section("Public IPv4", "No public IPv4 address: nothing to pay.")
		return
	}
	var lines []string
	lines = append(lines, fmt.Sprintf("Addresses are counted while their instances run: %s address-hours.", num(hours)))
	if c.plan == PlanLegacy {
		lines = append(lines, fmt.Sprintf("Free: %s h a month (legacy plan) -> %s h billed.", num(free), num(hours-free)))
	} else {
		lines = append(lines, "The credit plan has no free IPv4 allowance (uncertain: inferred from its absence in the offer).")
		r.Uncertain = append(r.Uncertain, Facts.CreditsIPv4Free.Note)
	}
	lines = append(lines, fmt.Sprintf("%s h x %s/h = %s.", num(hours-free), rate(p), usd(r.IPv4.CostUSD)),
		"An Elastic IP, or an address kept while the instance is stopped, bills every hour of the month.")
	r.section("Public IPv4", lines...)
}

// ebs prices EBS storage over the legacy 30 GB.
func (r *Result) ebs(c checked, covered bool) {
	free := 0.0
	if c.plan == PlanLegacy && covered {
		free = math.Min(c.ebsGB, Facts.LegacyEBSGB.Value)
	}
	p := Facts.EBSGBMonthUSD.Value
	r.EBS = EBSCost{GB: c.ebsGB, FreeGB: free, BilledGB: round(c.ebsGB-free, 2), GBMonthUSD: p,
		CostUSD: cents((c.ebsGB - free) * p), PriceAssumed: Facts.EBSGBMonthUSD.Uncertain}
	if c.ebsGB == 0 {
		r.section("EBS storage", "No EBS storage entered.")
		return
	}
	line := fmt.Sprintf("%s GB - %s GB free = %s GB x %s/GB-month = %s.", num(c.ebsGB), num(free), num(c.ebsGB-free), rate(p), usd(r.EBS.CostUSD))
	lines := []string{line, "Volumes bill whether the instance runs or is stopped."}
	if c.ebsGB > free {
		lines = append(lines, "The EBS price is an assumption (gp3, us-east-1), not a checked fact.")
		r.Uncertain = append(r.Uncertain, Facts.EBSGBMonthUSD.Note)
	}
	r.section("EBS storage", lines...)
}

// credits says how long the credit balance lasts at this month's rate.
func (r *Result) credits(c checked) {
	cr := &Credits{BalanceUSD: c.creditsUSD, MonthlyUSD: r.TotalUSD}
	r.Credits = cr
	days := float64(r.MonthDays)
	cr.DailyUSD = round(r.TotalUSD/days, 4)
	if !r.FreePeriod.CoversMonth {
		r.section("Credits", "The credits have expired by this month: the total is paid, not drawn from credits.")
		return
	}
	lines := []string{fmt.Sprintf("%s this month is drawn from the credits, assuming a balance of %s at the start of the month ($%.0f at sign-up, up to $%.0f more for activities).",
		usd(r.TotalUSD), usd(c.creditsUSD), Facts.CreditsSignupUSD.Value, Facts.CreditsActivityUSD.Value)}
	freePlanDays := Facts.FreePlanMonths.Value * 30.44
	switch {
	case r.TotalUSD <= 0:
		lines = append(lines, "Nothing is spent, so the credits do not run out at this rate.")
	default:
		cr.RunsOut = true
		exact := c.creditsUSD / (r.TotalUSD / days)
		cr.Days = round(exact, 1)
		lines = append(lines, fmt.Sprintf("%s / (%s / %d days = $%.4f a day) = %s days.",
			usd(c.creditsUSD), usd(r.TotalUSD), r.MonthDays, r.TotalUSD/days, num(cr.Days)))
		if !c.created.IsZero() {
			out := c.month.Start().Add(time.Duration(math.Min(exact, 3660) * 24 * float64(time.Hour)))
			cr.RunOutDate = day(out)
			if out.Before(c.created.AddDate(0, int(Facts.FreePlanMonths.Value), 0)) {
				lines = append(lines, fmt.Sprintf("They run out about %s, before the Free plan's %.0f months end on %s: on the Free plan the account then closes unless upgraded.",
					cr.RunOutDate, Facts.FreePlanMonths.Value, r.FreePeriod.Ends))
			} else {
				lines = append(lines, fmt.Sprintf("The Free plan ends first, on %s; on the Paid plan the credits left stay usable until %s.",
					r.FreePeriod.Ends, r.FreePeriod.CreditsExpire))
			}
		} else if exact < freePlanDays {
			lines = append(lines, fmt.Sprintf("That is less than the Free plan's %.0f months: on the Free plan the account closes when they run out, unless upgraded.", Facts.FreePlanMonths.Value))
		} else {
			lines = append(lines, fmt.Sprintf("That is longer than the Free plan's %.0f months, which end first; on the Paid plan the credits left stay usable until they expire (%.0f months after sign-up).",
				Facts.FreePlanMonths.Value, Facts.CreditsMonths.Value))
		}
	}
	if !r.CostComplete {
		lines = append(lines, "Some hours have no checked price, so the credits last less than this.")
	}
	r.section("Credits", lines...)
}

// split shares the legacy pool evenly between the eligible instances.
func (r *Result) split(c checked) {
	n := 0
	for _, g := range r.Groups {
		if g.Eligibility != NotEligible {
			n += g.Instances
		}
	}
	if n == 0 {
		return
	}
	s := EvenSplit(n, r.MonthHours)
	r.Split = &s
	pool := Facts.LegacyPoolHours.Value
	lines := []string{fmt.Sprintf("%s h / %d instances = %s h each (%s days).", num(pool), n, num(pool/float64(n)), num(pool/float64(n)/24))}
	if pool/float64(n) > float64(r.MonthHours) {
		lines = append(lines, fmt.Sprintf("That is more than the month's %d h: each can run all month.", r.MonthHours))
	}
	lines = append(lines, fmt.Sprintf("Instances that can run all of %s for free: %d (%d x %d h = %s h <= %s h).",
		r.Month, s.AllMonthInstances, s.AllMonthInstances, r.MonthHours, num(float64(s.AllMonthInstances*r.MonthHours)), num(pool)))
	r.section("Even split of the pool", lines...)
}

// quota reports the vCPU quota, a limit separate from what is free.
func (r *Result) quota(c checked) {
	q := Quota{Code: Facts.VCPUQuotaCode, Name: Facts.VCPUQuotaName, VCPULimit: c.vcpuQuota, Default: !c.quotaGiven}
	var lines []string
	src := "your value"
	if q.Default {
		src = "AWS's documented default; check yours in Service Quotas"
	}
	lines = append(lines, fmt.Sprintf("A separate limit from the free tier: %q (quota %s) allows %d vCPUs of running instances per Region (%s).",
		q.Name, q.Code, q.VCPULimit, src))
	seen := map[string]bool{}
	for _, g := range r.Groups {
		q.VCPUsAllRunning += g.Instances * g.VCPU
		if !seen[g.Type] {
			seen[g.Type] = true
			qt := QuotaType{Type: g.Type, VCPU: g.VCPU, MaxAtOnce: q.VCPULimit / g.VCPU}
			q.PerType = append(q.PerType, qt)
			lines = append(lines, fmt.Sprintf("%s has %d vCPU: %d / %d = %d at once.", qt.Type, qt.VCPU, q.VCPULimit, qt.VCPU, qt.MaxAtOnce))
		}
	}
	q.FitsAtOnce = q.VCPUsAllRunning <= q.VCPULimit
	verdict := "fits"
	if !q.FitsAtOnce {
		verdict = "does not fit: run them at different times or ask for a higher quota"
		r.Warnings = append(r.Warnings, fmt.Sprintf("All instances running at once need %d vCPUs, more than the quota of %d.", q.VCPUsAllRunning, q.VCPULimit))
	}
	lines = append(lines, fmt.Sprintf("All your instances running at once need %d vCPUs: %s.", q.VCPUsAllRunning, verdict))
	r.Quota = q
	r.section("vCPU quota", lines...)
}

func listOr(names []string, empty string) string {
	if len(names) == 0 {
		return empty
	}
	return strings.Join(names, ", ")
}
