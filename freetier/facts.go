// Package freetier is the EC2 free-tier calculator: the two free-tier plans,
// their prices and the month arithmetic, as pure functions with no I/O.
//
// Every number the calculator uses lives in the Facts table below, each with
// its source and the date it was checked, so that an instructor updates the
// calculator, the course's computed quiz answers and the grader's
// instance-type advice in one place.
package freetier

// Checked is when the facts below were last compared with their sources.
const Checked = "2026-12"

// Fact is one number with its provenance. Uncertain facts are shown to the
// student as uncertain rather than as settled.
type Fact struct {
	Value     float64 `json:"value"`
	Source    string  `json:"source"`
	Checked   string  `json:"checked"`
	Uncertain bool    `json:"uncertain,omitempty"`
	Note      string  `json:"note,omitempty"`
}

// Eligibility says whether a type counts as free tier under a plan.
type Eligibility string

// The three answers to "is this type free-tier eligible?".
const (
	Eligible    Eligibility = "yes"
	NotEligible Eligibility = "no"
	// Regional: eligible only in some Regions (t3.micro on the legacy
	// plan counts only where t2.micro does not exist).
	Regional Eligibility = "regional"
)

// InstanceType is one row of the price table (us-east-1, Linux, on demand).
type InstanceType struct {
	Name       string      `json:"name"`
	VCPU       int         `json:"vcpu"`
	HourlyUSD  float64     `json:"hourly_usd"`
	PriceKnown bool        `json:"price_known"`
	Legacy     Eligibility `json:"legacy"`
	Credits    Eligibility `json:"credits"`
	Source     string      `json:"source"`
	Checked    string      `json:"checked"`
	Note       string      `json:"note,omitempty"`
}

// Table is the whole set of constants the calculator uses.
type Table struct {
	// CreditPlanFrom: accounts created on or after this date (YYYY-MM-DD)
	// are on the credit-based plan, earlier ones on the legacy plan.
	CreditPlanFrom string `json:"credit_plan_from"`
	// CreditPlanFromSource is where CreditPlanFrom comes from.
	CreditPlanFromSource string `json:"credit_plan_from_source"`

	LegacyPoolHours    Fact `json:"legacy_pool_hours"`    // instance-hours a month, pooled
	LegacyMonths       Fact `json:"legacy_months"`        // months the legacy offer lasts
	LegacyIPv4Hours    Fact `json:"legacy_ipv4_hours"`    // free public IPv4 hours a month
	LegacyEBSGB        Fact `json:"legacy_ebs_gb"`        // free EBS GB-month
	IPv4HourlyUSD      Fact `json:"ipv4_hourly_usd"`      // public IPv4 address price
	CreditsIPv4Free    Fact `json:"credits_ipv4_free"`    // free IPv4 hours on the credit plan
	EBSGBMonthUSD      Fact `json:"ebs_gb_month_usd"`     // gp3 storage price (an assumption)
	CreditsSignupUSD   Fact `json:"credits_signup_usd"`   // credits at sign-up
	CreditsActivityUSD Fact `json:"credits_activity_usd"` // more credits for activities
	FreePlanMonths     Fact `json:"free_plan_months"`     // Free plan length
	CreditsMonths      Fact `json:"credits_months"`       // credits expire after
	VCPUQuota          Fact `json:"vcpu_quota"`           // default running On-Demand vCPUs
	AverageMonthHours  Fact `json:"average_month_hours"`  // AWS estimates' month

	// IPv4ChargedFrom: public IPv4 addresses bill from this date (YYYY-MM-DD).
	IPv4ChargedFrom string `json:"ipv4_charged_from"`

	// VCPUQuotaCode is the Service Quotas code of the vCPU limit.
	VCPUQuotaCode string `json:"vcpu_quota_code"`
	// VCPUQuotaName is the quota's name as Service Quotas shows it.
	VCPUQuotaName string `json:"vcpu_quota_name"`

	Types []InstanceType `json:"types"`
}

// Sources, shortened; the full list is in the course's facts file.
const (
	srcPricing  = "aws.amazon.com/ec2/pricing/on-demand (us-east-1, Linux)"
	srcFree     = "aws.amazon.com/free and the Billing User Guide page free-tier-plans"
	srcLegacy   = "aws.amazon.com/free/legacy and the AWS Free Tier FAQ"
	srcVPC      = "Amazon VPC pricing, public IPv4 addresses (since 2024-02-01)"
	srcQuota    = "AWS CLI reference, service-quotas get-aws-default-service-quota example"
	srcEstimate = "AWS Pricing Calculator convention"
	srcEBS      = "assumption: Amazon EBS pricing, gp3 in us-east-1; not in the course's facts file"
)

// Facts is the table in use. Change it here, nowhere else.
var Facts = Table{
	CreditPlanFrom:       "2025-07-15",
	CreditPlanFromSource: srcFree,

	LegacyPoolHours: Fact{Value: 750, Source: srcLegacy, Checked: Checked,
		Note: "pooled over all eligible instances in all Regions; unused hours do not roll over"},
	LegacyMonths: Fact{Value: 12, Source: srcLegacy, Checked: Checked,
		Note: "so every legacy offer had ended by about 2026-07-15"},
	LegacyIPv4Hours: Fact{Value: 750, Source: srcVPC, Checked: Checked},
	LegacyEBSGB:     Fact{Value: 30, Source: srcLegacy, Checked: Checked},
	IPv4HourlyUSD:   Fact{Value: 0.005, Source: srcVPC, Checked: Checked},
	CreditsIPv4Free: Fact{Value: 0, Source: srcFree, Checked: Checked, Uncertain: true,
		Note: "No free IPv4 allowance was found in the credit plan's offer list; its absence is inferred."},
	EBSGBMonthUSD: Fact{Value: 0.08, Source: srcEBS, Checked: Checked, Uncertain: true,
		Note: "The EBS price is an assumption (gp3, us-east-1), not a checked fact."},
	CreditsSignupUSD:   Fact{Value: 100, Source: srcFree, Checked: Checked},
	CreditsActivityUSD: Fact{Value: 100, Source: srcFree, Checked: Checked, Note: "up to $100 more for completing activities"},
	FreePlanMonths: Fact{Value: 6, Source: srcFree, Checked: Checked,
		Note: "or until the credits run out, whichever comes first; then the account closes (data kept 90 days) unless upgraded"},
	CreditsMonths: Fact{Value: 12, Source: srcFree, Checked: Checked},
	VCPUQuota: Fact{Value: 5, Source: srcQuota, Checked: Checked,
		Note: "the applied value varies by account: read yours in Service Quotas"},
	AverageMonthHours: Fact{Value: 730, Source: srcEstimate, Checked: Checked},

	IPv4ChargedFrom: "2024-02-01",
	VCPUQuotaCode:   "L-1216C47A",
	VCPUQuotaName:   "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances",

	Types: []InstanceType{
		{Name: "t2.micro", VCPU: 1, HourlyUSD: 0.0116, PriceKnown: true, Legacy: Eligible, Credits: NotEligible,
			Source: srcPricing, Checked: Checked, Note: "refused on the credit plan's Free plan"},
		{Name: "t3.micro", VCPU: 2, HourlyUSD: 0.0104, PriceKnown: true, Legacy: Regional, Credits: Eligible,
			Source: srcPricing, Checked: Checked, Note: "legacy: free only in Regions without t2.micro; starts in unlimited CPU-credit mode"},
		{Name: "t3.small", VCPU: 2, HourlyUSD: 0.0208, PriceKnown: true, Legacy: NotEligible, Credits: Eligible,
			Source: srcPricing, Checked: Checked, Note: "starts in unlimited CPU-credit mode"},
		{Name: "t4g.micro", VCPU: 2, HourlyUSD: 0.0084, PriceKnown: true, Legacy: NotEligible, Credits: Eligible,
			Source: srcPricing, Checked: Checked, Note: "Arm (Graviton); starts in unlimited CPU-credit mode"},
		{Name: "t4g.small", VCPU: 2, HourlyUSD: 0.0168, PriceKnown: true, Legacy: NotEligible, Credits: Eligible,
			Source: srcPricing, Checked: Checked,
			Note: "Arm (Graviton); a separate 750 h/month legacy trial was reported extended to 2026-12-31 (uncertain, not counted here)"},
		{Name: "c7i-flex.large", VCPU: 2, PriceKnown: false, Legacy: NotEligible, Credits: Eligible,
			Source: srcFree, Checked: Checked, Note: "price not in the checked facts: cost not computed"},
		{Name: "m7i-flex.large", VCPU: 2, PriceKnown: false, Legacy: NotEligible, Credits: Eligible,
			Source: srcFree, Checked: Checked, Note: "price not in the checked facts: cost not computed"},
	},
}

// LookupType returns the table row of an instance type name (exact, lower case).
func LookupType(name string) (InstanceType, bool) {
	for _, t := range Facts.Types {
		if t.Name == name {
			return t, true
		}
	}
	return InstanceType{}, false
}

// TypeNames lists the instance types the calculator knows, in table order.
func TypeNames() []string {
	names := make([]string, len(Facts.Types))
	for i, t := range Facts.Types {
		names[i] = t.Name
	}
	return names
}

// Eligibility returns how the type counts under plan (PlanLegacy or PlanCredits).
func (t InstanceType) Eligibility(plan Plan) Eligibility {
	if plan == PlanLegacy {
		return t.Legacy
	}
	return t.Credits
}
