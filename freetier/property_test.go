package freetier

import (
	"math"
	"math/rand"
	"net/url"
	"reflect"
	"testing"
	"testing/quick"
	"time"
)

// anyInput is an arbitrary, mostly invalid Input for testing/quick.
type anyInput struct{ Input }

// Generate implements quick.Generator with values near and beyond every limit.
func (anyInput) Generate(r *rand.Rand, size int) reflect.Value {
	pick := func(xs ...string) string { return xs[r.Intn(len(xs))] }
	f := func() float64 {
		switch r.Intn(8) {
		case 0:
			return math.NaN()
		case 1:
			return math.Inf(1 - 2*r.Intn(2))
		case 2:
			return -r.Float64() * 1000
		case 3:
			return r.Float64() * 1e12
		default:
			return r.Float64() * 800
		}
	}
	in := Input{
		Plan:       Plan(pick("", "legacy", "credits", "auto", "LEGACY", "free", "\x00")),
		Created:    pick("", "2024-02-29", "2025-07-14", "2025-07-15", "2026-12-04", "2099-01-01", "1999-12-31", "2025-13-01", "x"),
		Month:      pick("", "2024-02", "2025-12", "2026-02", "2036-12", "2005-12", "0000-00", "2026-1"),
		EBSGB:      f(),
		CreditsUSD: f() / 3,
		VCPUQuota:  r.Intn(40) - 5,
	}
	for i := r.Intn(13); i > 0; i-- {
		g := Group{
			Type:      pick(append(TypeNames(), "", "m5.large", "T3.MICRO")...),
			Instances: r.Intn(2200) - 100,
			IPv4:      r.Intn(2) == 0,
		}
		if r.Intn(3) == 0 {
			h := f()
			g.Hours = &h
		}
		if r.Intn(3) == 0 {
			h := f() / 20
			g.HoursPerDay = &h
		}
		in.Groups = append(in.Groups, g)
	}
	return reflect.ValueOf(anyInput{in})
}

func TestNoInputCrashes(t *testing.T) {
	prop := func(a anyInput, days uint16) bool {
		now := today.AddDate(0, 0, -int(days%4000))
		res, errs := Calculate(a.Input, now)
		if (res == nil) == (len(errs) == 0) {
			return false // exactly one of result and errors
		}
		if res != nil {
			_ = Validate(a.Input, now)
			return res.TotalUSD >= 0 && !math.IsNaN(res.TotalUSD) && res.BilledHours >= 0
		}
		return true
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 5000}); err != nil {
		t.Error(err)
	}
}

// validInput is a random valid Input and a way to make it use more.
type validInput struct {
	Input
	Grow func(*Input) // adds usage
}

// Generate implements quick.Generator.
func (validInput) Generate(r *rand.Rand, size int) reflect.Value {
	months := []string{"2024-02", "2025-06", "2025-12", "2026-02", "2026-11"}
	in := Input{Month: months[r.Intn(len(months))], EBSGB: float64(r.Intn(60))}
	switch r.Intn(3) {
	case 0:
		in.Plan = PlanLegacy
	case 1:
		in.Plan = PlanCredits
		in.Month = []string{"2025-08", "2025-12", "2026-02", "2026-11"}[r.Intn(4)]
	default:
		in.Created = time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.Intn(1400)).Format("2006-01-02")
		if in.Month < in.Created[:7] {
			in.Month = in.Created[:7]
		}
	}
	m, _ := ParseMonth(in.Month)
	names := TypeNames()
	for i := r.Intn(4) + 1; i > 0; i-- {
		h := float64(r.Intn(m.Hours() + 1))
		in.Groups = append(in.Groups, Group{Type: names[r.Intn(len(names))], Instances: r.Intn(5) + 1, Hours: &h, IPv4: r.Intn(2) == 0})
	}
	grows := []func(*Input){
		func(in *Input) { in.Groups[0].Instances++ },
		func(in *Input) {
			h := math.Min(*in.Groups[0].Hours+float64(r.Intn(100)+1), float64(m.Hours()))
			in.Groups[0].Hours = &h
		},
		func(in *Input) { in.Groups[0].IPv4 = true },
		func(in *Input) { in.EBSGB += float64(r.Intn(50) + 1) },
		func(in *Input) {
			h := float64(r.Intn(m.Hours() + 1))
			in.Groups = append(in.Groups, Group{Type: names[r.Intn(len(names))], Instances: 1, Hours: &h})
		},
	}
	return reflect.ValueOf(validInput{Input: in, Grow: grows[r.Intn(len(grows))]})
}

func TestCostNeverDecreasesWithUsage(t *testing.T) {
	prop := func(v validInput) bool {
		before, errs := Calculate(v.Input, today)
		if errs != nil {
			t.Logf("invalid generated input %+v: %v", v.Input, errs)
			return false
		}
		grown := v.Input
		grown.Groups = append([]Group(nil), v.Input.Groups...)
		v.Grow(&grown)
		after, errs := Calculate(grown, today)
		if errs != nil {
			return true // grew past a cap
		}
		if after.TotalUSD < before.TotalUSD || after.BilledHours < before.BilledHours ||
			after.IPv4.CostUSD < before.IPv4.CostUSD || after.InstanceUSD < before.InstanceUSD {
			t.Logf("before %+v: $%v; after %+v: $%v", v.Input, before.TotalUSD, grown, after.TotalUSD)
			return false
		}
		return true
	}
	if err := quick.Check(prop, &quick.Config{MaxCount: 5000}); err != nil {
		t.Error(err)
	}
}

func FuzzCalculateValues(f *testing.F) {
	for _, s := range []string{
		"instances=2&hours=375",
		"plan=credits&type=t3.micro&ipv4=on&month=2026-01",
		"created=2025-03-01&month=2025-12&instances=2&ebs_gb=40",
		"type_2=t3.small&instances_2=-1&hours_per_day_2=25",
		"instances=999999999999999999999&hours=NaN&month=9999-99",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		v, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		_, res, errs := CalculateValues(v, today)
		if res == nil && len(errs) == 0 {
			t.Fatalf("%q: neither result nor errors", q)
		}
		if res != nil && (res.TotalUSD < 0 || math.IsNaN(res.TotalUSD)) {
			t.Fatalf("%q: total %v", q, res.TotalUSD)
		}
	})
}
