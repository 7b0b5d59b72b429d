package web

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/coursekit/workshop/freetier"
)

// FreeTierPage is the free-tier calculator: the form, as filled in, and the
// result when the input is valid.
type FreeTierPage struct {
	Page
	Form   FreeTierForm
	Errors map[string]string // every message, by field name
	Result *freetier.Result  // nil when the input needs attention
	Chart  *FreeTierChart
	// Types are the instance types the form offers.
	Types []string
	// Today is the server's date, YYYY-MM-DD: the calculator's "today".
	Today string
	// ShareURL reproduces this result; APIURL is its JSON.
	ShareURL, APIURL string
	// DefaultQuota is AWS's default vCPU quota, for the form's hint.
	DefaultQuota int
	Checked      string // when the facts were last checked, YYYY-MM
}

// FreeTierForm is the calculator's form: the values as typed and a message
// beside each field that needs attention.
type FreeTierForm struct {
	Plan, Created, Month         FreeTierField
	EBSGB, CreditsUSD, VCPUQuota FreeTierField
	Groups                       []FreeTierGroup
	GroupsError                  string // e.g. "add at least one group"
	MoreOpen                     bool   // the optional settings hold something
}

// FreeTierGroup is one group of instances in the form.
type FreeTierGroup struct {
	Number                 int // 1-based
	Type, Instances, Hours FreeTierField
	HoursPerDay, IPv4      FreeTierField
	Filled                 bool // shown open: the first group, or one with a value
}

// FreeTierField is one input: its query-string name, the value as typed,
// and its message.
type FreeTierField struct {
	Name, Value, Error string
}

// ID is the field's element id.
func (f FreeTierField) ID() string { return "ft-" + f.Name }

// Checked reports whether a checkbox value means yes.
func (f FreeTierField) Checked() bool {
	switch strings.ToLower(f.Value) {
	case "1", "yes", "on", "true":
		return true
	}
	return false
}

// FreeTierOption is an option of a select.
type FreeTierOption struct {
	Value, Label string
	Selected     bool
}

// TypeOptions are the choices for a group's instance type: the plan's
// default, then every type the calculator knows; an unknown value from the
// URL is kept as an option so that its message has something to point at.
func (p FreeTierPage) TypeOptions(f FreeTierField) []FreeTierOption {
	opts := []FreeTierOption{{Value: "", Label: "Plan default (t2.micro; credits: t3.micro)", Selected: f.Value == ""}}
	known := f.Value == ""
	for _, t := range p.Types {
		opts = append(opts, FreeTierOption{Value: t, Label: t, Selected: t == f.Value})
		known = known || t == f.Value
	}
	if !known {
		opts = append(opts, FreeTierOption{Value: f.Value, Label: f.Value + " (not known)", Selected: true})
	}
	return opts
}

// PlanOptions are the choices for the plan.
func (p FreeTierPage) PlanOptions() []FreeTierOption {
	v := p.Form.Plan.Value
	opts := []FreeTierOption{
		{Value: "", Label: "From the creation date"},
		{Value: "legacy", Label: "Legacy (created before 2025-07-15)"},
		{Value: "credits", Label: "Credit-based (from 2025-07-15)"},
	}
	known := false
	for i := range opts {
		opts[i].Selected = opts[i].Value == v
		known = known || opts[i].Selected
	}
	if !known {
		opts = append(opts, FreeTierOption{Value: v, Label: v + " (not known)", Selected: true})
	}
	return opts
}

// ErrorList is every message with the field it belongs to, in the form's
// order, for the summary above the result.
func (p FreeTierPage) ErrorList() []FreeTierField {
	var out []FreeTierField
	add := func(f FreeTierField) {
		if f.Error != "" {
			out = append(out, f)
		}
	}
	f := p.Form
	for _, x := range []FreeTierField{f.Plan, f.Created, f.Month} {
		add(x)
	}
	if f.GroupsError != "" {
		out = append(out, FreeTierField{Name: "instances", Error: f.GroupsError})
	}
	for _, g := range f.Groups {
		for _, x := range []FreeTierField{g.Type, g.Instances, g.Hours, g.HoursPerDay, g.IPv4} {
			add(x)
		}
	}
	for _, x := range []FreeTierField{f.EBSGB, f.CreditsUSD, f.VCPUQuota} {
		add(x)
	}
	// A message for a field the form does not show (a group beyond the
	// form's) still gets listed.
	shown := map[string]bool{}
	for _, x := range out {
		shown[x.Name] = true
	}
	var extra []FreeTierField
	for name, msg := range p.Errors {
		if !shown[name] && name != "groups" {
			extra = append(extra, FreeTierField{Name: name, Error: msg})
		}
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i].Name < extra[j].Name })
	return append(out, extra...)
}

// freetierLabels are the form's labels by field name, without group suffix.
var freetierLabels = map[string]string{
	"plan": "Plan", "created": "Account created on", "month": "Month",
	"ebs_gb": "EBS storage", "credits_usd": "Credit balance", "vcpu_quota": "Your vCPU quota",
	"type": "Instance type", "instances": "Instances", "hours": "Hours each in the month",
	"hours_per_day": "Hours each per day", "ipv4": "Public IPv4 address", "groups": "Instance groups",
}

// Label names the field for the error summary, e.g. "Instances (group 2)".
func (f FreeTierField) Label() string {
	name, group := f.Name, 1
	if i := strings.LastIndexByte(name, '_'); i > 0 {
		if n, err := strconv.Atoi(name[i+1:]); err == nil && n >= 2 {
			name, group = name[:i], n
		}
	}
	label, ok := freetierLabels[name]
	if !ok {
		return f.Name
	}
	switch name {
	case "type", "instances", "hours", "hours_per_day", "ipv4":
		return fmt.Sprintf("%s (group %d)", label, group)
	}
	return label
}

// HasErrors reports whether any field needs attention.
func (p FreeTierPage) HasErrors() bool { return len(p.Errors) > 0 }

// Figure formats a number for the page's machine-readable <data> values,
// the same number as in the API's JSON.
func (p FreeTierPage) Figure(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Hours formats hours for people: "1,488", "15.63".
func (p FreeTierPage) Hours(f float64) string { return groupThousands(f) }

// USD formats dollars to cents.
func (p FreeTierPage) USD(f float64) string { return fmt.Sprintf("$%.2f", f) }

// TotalHours is all instance-hours of the month, eligible or not.
func (p FreeTierPage) TotalHours() float64 {
	if p.Result == nil {
		return 0
	}
	var h float64
	for _, t := range p.Result.Types {
		h += t.Hours
	}
	return math.Round(h*100) / 100
}

// FreeTierChart is a horizontal bar chart drawn as inline SVG, with the
// same figures in Rows for a data table.
type FreeTierChart struct {
	Title, Desc string
	Width       int
	Height      int
	LabelWidth  int
	LabelX      int // where the labels end (they are right-aligned)
	Bars        []FreeTierBar
	// LimitX is where the limit line is drawn (the 750-hour pool or the
	// credit balance); ShowLimit is false when there is no limit.
	LimitX     float64
	LimitLabel string
	ShowLimit  bool
	// Column headers and rows of the fallback table.
	LabelHeader, ValueHeader string
	Rows                     []FreeTierRow
	Legend                   []FreeTierLegend
}

// FreeTierBar is a row of the chart: one or more coloured segments.
type FreeTierBar struct {
	Label    string
	Y, TextY int
	Segments []FreeTierSegment
	Value    string
	ValueX   float64
}

// FreeTierSegment is a part of a bar, classed by what it means.
type FreeTierSegment struct {
	X, W  float64
	Y     int
	Class string // ft-free, ft-billed, ft-cost
	Title string
}

// FreeTierRow is a row of the chart's data table.
type FreeTierRow struct {
	Label, Value, Note string
}

// FreeTierLegend names a segment class.
type FreeTierLegend struct {
	Class, Label string
}

// Chart geometry, in SVG user units.
const (
	chartWidth  = 640
	chartLabelW = 190
	chartValueW = 110
	chartRowH   = 34
	chartBarH   = 20
	chartTop    = 28
)

// NewFreeTierChart draws a result: on the legacy plan the instance-hours of
// each group against the 750-hour pool, on the credit plan this month's
// cost against the credit balance. groupNumbers are the form's numbers of
// r.Groups (1 for the first group, 3 for "type_3"); nil numbers them 1..n.
func NewFreeTierChart(r *freetier.Result, groupNumbers []int) *FreeTierChart {
	if r == nil {
		return nil
	}
	if r.Plan == freetier.PlanCredits {
		return creditChart(r)
	}
	return legacyChart(r, groupNumbers)
}

type chartItem struct {
	label string
	parts []chartPart
	value string
	note  string
}

type chartPart struct {
	v            float64
	class, title string
}

func legacyChart(r *freetier.Result, numbers []int) *FreeTierChart {
	c := &FreeTierChart{
		Title:       fmt.Sprintf("Instance-hours in %s against the %s-hour free pool", r.Month, groupThousands(r.PoolHours)),
		LabelHeader: "Instance group", ValueHeader: "Instance-hours",
		Legend: []FreeTierLegend{{"ft-eligible", "eligible: draws on the pool"}, {"ft-billed", "not eligible, or no pool: billed"}},
	}
	var items []chartItem
	maxV := math.Max(r.PoolHours, r.EligibleHours)
	var total float64
	for i, g := range r.Groups {
		class, note := "ft-eligible", "draws on the free pool"
		switch {
		case g.Eligibility == freetier.NotEligible:
			class, note = "ft-billed", "not free-tier eligible: every hour billed"
		case r.PoolHours == 0:
			class, note = "ft-billed", "no free pool this month: every hour billed"
		}
		n := i + 1
		if i < len(numbers) {
			n = numbers[i]
		}
		label := fmt.Sprintf("%d. %d × %s", n, g.Instances, g.Type)
		items = append(items, chartItem{label: label, value: groupThousands(g.InstanceHours) + " h",
			parts: []chartPart{{g.InstanceHours, class, fmt.Sprintf("%s: %s h", label, groupThousands(g.InstanceHours))}},
			note:  fmt.Sprintf("%s h each; %s", groupThousands(g.HoursEach), note)})
		maxV = math.Max(maxV, g.InstanceHours)
		total += g.InstanceHours
	}
	if r.PoolHours > 0 {
		free := math.Min(r.EligibleHours, r.PoolHours)
		over := math.Max(r.EligibleHours-free, 0)
		items = append(items, chartItem{label: "Against the pool", value: groupThousands(r.EligibleHours) + " h",
			parts: []chartPart{{free, "ft-free", groupThousands(free) + " h free"}, {over, "ft-over", groupThousands(over) + " h over the pool, billed"}},
			note:  fmt.Sprintf("eligible hours: %s h free, %s h over the pool (billed)", groupThousands(free), groupThousands(over))})
		c.Legend = append(c.Legend, FreeTierLegend{"ft-free", "within the pool: free"}, FreeTierLegend{"ft-over", "over the pool: billed"})
		c.Desc = fmt.Sprintf("%s eligible instance-hours against a free pool of %s hours: %s hours free, %s hours billed in all.",
			groupThousands(r.EligibleHours), groupThousands(r.PoolHours), groupThousands(r.FreeHours), groupThousands(r.BilledHours))
	} else {
		c.Title = fmt.Sprintf("Instance-hours in %s, with no free pool", r.Month)
		c.Desc = fmt.Sprintf("The free period does not cover %s: no free pool, all %s instance-hours are billed.", r.Month, groupThousands(total))
	}
	layoutChart(c, items, maxV, r.PoolHours, groupThousands(r.PoolHours)+" h free pool")
	return c
}

func creditChart(r *freetier.Result) *FreeTierChart {
	balance := 0.0
	if r.Credits != nil {
		balance = r.Credits.BalanceUSD
	}
	c := &FreeTierChart{
		Title:       fmt.Sprintf("Cost in %s against the credit balance of %s", r.Month, dollars(balance)),
		LabelHeader: "Item", ValueHeader: "Cost this month",
		Legend: []FreeTierLegend{{"ft-cost", "paid from the credits"}},
	}
	var items []chartItem
	for _, t := range r.Types {
		value, note := dollars(t.CostUSD), fmt.Sprintf("%s h × $%s/h", groupThousands(t.BilledHours), strconv.FormatFloat(t.HourlyUSD, 'f', -1, 64))
		if !t.PriceKnown {
			value, note = "unknown", "price not in the checked facts"
		}
		items = append(items, chartItem{label: t.Type, value: value, note: note,
			parts: []chartPart{{t.CostUSD, "ft-cost", t.Type + ": " + value}}})
	}
	if r.IPv4.Hours > 0 {
		items = append(items, chartItem{label: "Public IPv4", value: dollars(r.IPv4.CostUSD), note: groupThousands(r.IPv4.BilledHours) + " address-hours",
			parts: []chartPart{{r.IPv4.CostUSD, "ft-cost", "Public IPv4: " + dollars(r.IPv4.CostUSD)}}})
	}
	if r.EBS.GB > 0 {
		items = append(items, chartItem{label: "EBS storage", value: dollars(r.EBS.CostUSD), note: groupThousands(r.EBS.BilledGB) + " GB-month",
			parts: []chartPart{{r.EBS.CostUSD, "ft-cost", "EBS: " + dollars(r.EBS.CostUSD)}}})
	}
	total := "Total"
	if !r.CostComplete {
		total = "Total (at least)"
	}
	totalNote := "drawn from the credits"
	if !r.FreePeriod.CoversMonth {
		totalNote = "paid: the credits do not cover this month"
	}
	items = append(items, chartItem{label: total, value: dollars(r.TotalUSD), note: totalNote,
		parts: []chartPart{{r.TotalUSD, "ft-billed", "Total: " + dollars(r.TotalUSD)}}})
	c.Legend = append(c.Legend, FreeTierLegend{"ft-billed", "the month's total"})
	c.Desc = fmt.Sprintf("This month costs %s; the credit balance is %s.", dollars(r.TotalUSD), dollars(balance))
	if r.Credits != nil && r.Credits.RunsOut {
		c.Desc += fmt.Sprintf(" At this rate the credits last about %s days.", groupThousands(r.Credits.Days))
	}
	layoutChart(c, items, math.Max(balance, r.TotalUSD), balance, dollars(balance)+" credits")
	return c
}

// layoutChart places the bars on a linear scale from 0 to maxV (plus room), with
// the limit line at limit when it is positive.
func layoutChart(c *FreeTierChart, items []chartItem, maxV, limit float64, limitLabel string) {
	c.Width, c.LabelWidth, c.LabelX = chartWidth, chartLabelW, chartLabelW-8
	c.Height = chartTop + len(items)*chartRowH + 8
	span := float64(chartWidth - chartLabelW - chartValueW)
	if maxV <= 0 {
		maxV = 1
	}
	scale := span / (maxV * 1.02)
	for i, it := range items {
		y := chartTop + i*chartRowH
		bar := FreeTierBar{Label: it.label, Y: y + (chartRowH-chartBarH)/2, TextY: y + chartRowH/2 + 5, Value: it.value}
		x := float64(chartLabelW)
		for _, p := range it.parts {
			if p.v <= 0 {
				continue
			}
			w := math.Max(p.v*scale, 1)
			bar.Segments = append(bar.Segments, FreeTierSegment{X: x, W: w, Y: bar.Y, Class: p.class, Title: p.title})
			x += w
		}
		bar.ValueX = x + 6
		c.Bars = append(c.Bars, bar)
		c.Rows = append(c.Rows, FreeTierRow{Label: it.label, Value: it.value, Note: it.note})
	}
	if limit > 0 {
		c.ShowLimit, c.LimitX, c.LimitLabel = true, float64(chartLabelW)+limit*scale, limitLabel
	}
}

func dollars(f float64) string { return fmt.Sprintf("$%.2f", f) }

// groupThousands formats a number with thousands separators and at most
// two decimals, like the calculator's sentences: 1488 -> "1,488".
func groupThousands(f float64) string {
	s := strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return b.String()
}
