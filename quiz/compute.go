package quiz

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/coursekit/workshop/freetier"
)

// InputSpec describes an input a freetier question can ask the student for.
type InputSpec struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	// Type is "number", "month" (YYYY-MM) or "choice" (one of Choices).
	Type    string   `json:"type"`
	Choices []string `json:"choices,omitempty"`
	// field is the freetier query field the input sets.
	field string
}

// Inputs are the inputs a freetier question may use, by name.
var Inputs = map[string]InputSpec{
	"instances": {Name: "instances", Label: "Number of instances", Type: "number", field: "instances"},
	"month":     {Name: "month", Label: "Month (YYYY-MM)", Type: "month", field: "month"},
	"hours":     {Name: "hours", Label: "Hours each instance runs in the month", Type: "number", field: "hours"},
	"type":      {Name: "type", Label: "Instance type", Type: "choice", Choices: freetier.TypeNames(), field: "type"},
	"plan":      {Name: "plan", Label: "Free-tier plan", Type: "choice", Choices: []string{"legacy", "credits"}, field: "plan"},
	"ipv4":      {Name: "ipv4", Label: "Public IPv4 address", Type: "choice", Choices: []string{"yes", "no"}, field: "ipv4"},
	"credits":   {Name: "credits", Label: "Credit balance (USD)", Type: "number", field: "credits_usd"},
}

// Computation is a named calculation a freetier question's answer comes from.
type Computation struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Unit        string   `json:"unit"`
	Required    []string `json:"required"`
	Optional    []string `json:"optional,omitempty"`
	// Plan is the plan the calculation assumes when no "plan" input is given.
	plan  freetier.Plan
	value func(*freetier.Result) (float64, error)
}

// Computations are the names a quiz file's compute field may use.
var Computations = map[string]Computation{
	"even-split-hours": {
		Description: "hours each of N instances may run for free in the month on the legacy plan: 750 / N, at most the month's hours",
		Unit:        "hours", Required: []string{"instances", "month"}, plan: freetier.PlanLegacy,
		value: func(r *freetier.Result) (float64, error) {
			return freetier.EvenSplit(r.Groups[0].Instances, r.MonthHours).HoursEach, nil
		},
	},
	"all-month-instances": {
		Description: "how many instances can run all month for free on the legacy plan",
		Unit:        "instances", Required: []string{"month"}, plan: freetier.PlanLegacy,
		value: func(r *freetier.Result) (float64, error) {
			return float64(freetier.EvenSplit(1, r.MonthHours).AllMonthInstances), nil
		},
	},
	"month-hours": {
		Description: "hours in the month (24 x days)",
		Unit:        "hours", Required: []string{"month"}, plan: freetier.PlanLegacy,
		value: func(r *freetier.Result) (float64, error) { return float64(r.MonthHours), nil },
	},
	"billed-hours": {
		Description: "instance-hours over the legacy plan's 750-hour pool",
		Unit:        "hours", Required: []string{"instances", "month"}, Optional: []string{"hours", "type"}, plan: freetier.PlanLegacy,
		value: func(r *freetier.Result) (float64, error) { return r.BilledHours, nil },
	},
	"monthly-cost-usd": {
		Description: "the month's cost in USD (instances, public IPv4), from the calculator",
		Unit:        "USD", Required: []string{"instances", "month"}, Optional: []string{"hours", "type", "plan", "ipv4"}, plan: freetier.PlanLegacy,
		value: func(r *freetier.Result) (float64, error) {
			if !r.CostComplete {
				return 0, fmt.Errorf("type: no checked price for this type; choose another")
			}
			return r.TotalUSD, nil
		},
	},
	"credit-days": {
		Description: "days the credit plan's balance lasts at this month's rate",
		Unit:        "days", Required: []string{"month"}, Optional: []string{"instances", "hours", "type", "ipv4", "credits"}, plan: freetier.PlanCredits,
		value: func(r *freetier.Result) (float64, error) {
			if r.Credits == nil || !r.Credits.RunsOut || !r.CostComplete {
				return 0, fmt.Errorf("the credits do not run out (or the cost is unknown) with these inputs")
			}
			return r.Credits.Days, nil
		},
	},
}

func init() {
	for name, c := range Computations {
		c.Name = name
		Computations[name] = c
	}
}

// ComputationNames lists the computation names, sorted.
func ComputationNames() []string {
	names := make([]string, 0, len(Computations))
	for n := range Computations {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// compute runs a computation on input values; errors are "input: message".
func compute(name string, values map[string]string) (float64, error) {
	c, ok := Computations[name]
	if !ok {
		return 0, fmt.Errorf("unknown computation %q", name)
	}
	for _, in := range c.Required {
		if strings.TrimSpace(values[in]) == "" {
			return 0, fmt.Errorf("%s: enter a value", in)
		}
	}
	m, err := freetier.ParseMonth(values["month"])
	if err != nil {
		return 0, fmt.Errorf("month: %v", err)
	}
	v := url.Values{"plan": {string(c.plan)}}
	for in, s := range values {
		spec, ok := Inputs[in]
		if !ok || !c.uses(in) {
			return 0, fmt.Errorf("%s: not an input of %s", in, name)
		}
		if s = strings.TrimSpace(s); s != "" {
			v.Set(spec.field, s)
		}
	}
	// The end of the month as "today": every month is valid, none is "future".
	_, res, errs := freetier.CalculateValues(v, m.End())
	if len(errs) > 0 {
		keys := make([]string, 0, len(errs))
		for k := range errs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		k := keys[0]
		return 0, fmt.Errorf("%s: %s", inputName(k), errs[k])
	}
	return c.value(res)
}

func (c Computation) uses(in string) bool {
	for _, x := range c.Required {
		if x == in {
			return true
		}
	}
	for _, x := range c.Optional {
		if x == in {
			return true
		}
	}
	return false
}

// inputName maps a freetier field name back to the quiz input's name.
func inputName(field string) string {
	for name, spec := range Inputs {
		if spec.field == field {
			return name
		}
	}
	return field
}
