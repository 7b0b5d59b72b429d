package freetier

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ParseValues reads an Input from a query string or form post, the state
// of the /freetier page and of GET /api/v1/freetier. Field names:
//
//	plan=legacy|credits  created=YYYY-MM-DD  month=YYYY-MM
//	ebs_gb=GB  credits_usd=USD  vcpu_quota=N
//	type=t2.micro  instances=N  hours=H  hours_per_day=H  ipv4=on|yes|true|1
//
// The group fields without suffix describe the first group; the second
// group's are type_2, instances_2, and so on up to MaxGroups. A group
// exists when its type or instances field is present. Missing instances
// default to 1, a missing type to t2.micro (legacy) or t3.micro (credits).
// Text that is not a number gets an error naming the field; range checks
// are left to Validate so that all three front ends share them.
func ParseValues(v url.Values) (Input, FieldErrors) {
	errs := FieldErrors{}
	in := Input{
		Plan:    Plan(strings.TrimSpace(v.Get("plan"))),
		Created: strings.TrimSpace(v.Get("created")),
		Month:   strings.TrimSpace(v.Get("month")),
	}
	in.EBSGB = parseFloat(v, "ebs_gb", errs)
	in.CreditsUSD = parseFloat(v, "credits_usd", errs)
	in.VCPUQuota = parseInt(v, "vcpu_quota", 0, errs)

	defType := "t2.micro"
	if strings.EqualFold(string(in.Plan), string(PlanCredits)) {
		defType = "t3.micro"
	}
	for i := 0; i < MaxGroups; i++ {
		f := func(name string) string { return GroupField(i, name) }
		if i > 0 && !v.Has(f("type")) && !v.Has(f("instances")) {
			continue
		}
		g := Group{Type: strings.TrimSpace(v.Get(f("type")))}
		if g.Type == "" {
			g.Type = defType
		}
		g.Instances = parseInt(v, f("instances"), 1, errs)
		if v.Get(f("hours")) != "" {
			h := parseFloat(v, f("hours"), errs)
			g.Hours = &h
		}
		if v.Get(f("hours_per_day")) != "" {
			h := parseFloat(v, f("hours_per_day"), errs)
			g.HoursPerDay = &h
		}
		g.IPv4 = parseBool(v, f("ipv4"), errs)
		in.Groups = append(in.Groups, g)
	}
	return in, errs
}

// CalculateValues is ParseValues followed by Calculate, with the errors of
// both in one map.
func CalculateValues(v url.Values, today time.Time) (Input, *Result, FieldErrors) {
	in, errs := ParseValues(v)
	if len(errs) > 0 {
		for k, msg := range Validate(in, today) {
			errs.add(k, msg)
		}
		return in, nil, errs
	}
	res, errs := Calculate(in, today)
	return in, res, errs
}

// Values is the inverse of ParseValues: the query string that reproduces
// in, for shareable links (e.g. from the bonus page to the calculator).
func (in Input) Values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("plan", string(in.Plan))
	set("created", in.Created)
	set("month", in.Month)
	if in.EBSGB != 0 {
		v.Set("ebs_gb", num(in.EBSGB))
	}
	if in.CreditsUSD != 0 {
		v.Set("credits_usd", num(in.CreditsUSD))
	}
	if in.VCPUQuota != 0 {
		v.Set("vcpu_quota", strconv.Itoa(in.VCPUQuota))
	}
	for i, g := range in.Groups {
		v.Set(GroupField(i, "type"), g.Type)
		v.Set(GroupField(i, "instances"), strconv.Itoa(g.Instances))
		if g.Hours != nil {
			v.Set(GroupField(i, "hours"), num(*g.Hours))
		}
		if g.HoursPerDay != nil {
			v.Set(GroupField(i, "hours_per_day"), num(*g.HoursPerDay))
		}
		if g.IPv4 {
			v.Set(GroupField(i, "ipv4"), "on")
		}
	}
	return v
}

func parseFloat(v url.Values, name string, errs FieldErrors) float64 {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !finite(f) {
		errs.add(name, "must be a number, e.g. 375 or 12.5")
		return 0
	}
	return f
}

func parseInt(v url.Values, name string, def int, errs FieldErrors) int {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		errs.add(name, "must be a whole number, e.g. 2")
		return def
	}
	return n
}

func parseBool(v url.Values, name string, errs FieldErrors) bool {
	switch strings.ToLower(strings.TrimSpace(v.Get(name))) {
	case "", "0", "no", "off", "false":
		return false
	case "1", "yes", "on", "true":
		return true
	}
	errs.add(name, "must be yes or no")
	return false
}
