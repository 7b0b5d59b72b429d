package grader

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// appPort is the port the lab app listens on and students open.
const appPort int32 = 8000

// awsChecks are the checks of the open-security-group step.
func awsChecks() []Check {
	return []Check{SecurityGroupAllowsPort{}, SecurityGroupNoRiskyRules{}, InstanceTypeFreeTier{}}
}

func init() {
	for _, c := range awsChecks() {
		register(c)
	}
	testAWSHook = testAWS
}

// awsCheck runs body on the EC2 snapshot and fills in what every AWS check
// shares: id, title, timing, and the diagnosis when the snapshot failed.
func awsCheck(ctx context.Context, env *Env, c Check, body func(s *ec2Snapshot, r *Result)) Result {
	r := Result{CheckID: c.ID(), Title: c.Title(), Started: time.Now()}
	s, err := env.ec2Snapshot(ctx)
	switch {
	case err != nil:
		resultFromError(err, &r)
	case s.State == string(ec2types.InstanceStateNameTerminated):
		resultFromError(terminatedError(s), &r)
	default:
		r.Evidence = append(r.Evidence, fmt.Sprintf("instance %s (%s, %s) in %s", s.InstanceID, s.Type, s.State, s.Region))
		body(s, &r)
	}
	r.Duration = time.Since(r.Started)
	return r
}

// attachedLine lists the attached groups as evidence.
func attachedLine(s *ec2Snapshot) string {
	var names []string
	for _, g := range s.Attached {
		names = append(names, groupLabel(aws.ToString(g.GroupId), aws.ToString(g.GroupName)))
	}
	if len(names) == 0 {
		return "attached security groups: none"
	}
	return "attached security groups: " + strings.Join(names, ", ")
}

// ruleLines lists rules as evidence, at most limit of them.
func ruleLines(prefix string, rules []sgRule, limit int) []string {
	var lines []string
	for i, r := range rules {
		if i == limit {
			lines = append(lines, fmt.Sprintf("%s… and %d more", prefix, len(rules)-limit))
			break
		}
		lines = append(lines, prefix+r.String())
	}
	return lines
}

// SecurityGroupAllowsPort checks that the instance's security groups let
// the course server reach TCP port 8000.
type SecurityGroupAllowsPort struct{}

// ID implements Check.
func (SecurityGroupAllowsPort) ID() string { return "security-group-allows-8000" }

// Title implements Check.
func (SecurityGroupAllowsPort) Title() string { return "The security group allows inbound TCP 8000" }

// Run implements Check.
func (c SecurityGroupAllowsPort) Run(ctx context.Context, env *Env) Result {
	server := env.aws.opts.ServerCIDRs
	return awsCheck(ctx, env, c, func(s *ec2Snapshot, r *Result) {
		r.Evidence = append(r.Evidence, attachedLine(s))
		v := judgePort(s, appPort, server)
		r.Status, r.Kind = v.Status, v.Kind
		addRule := "In the EC2 console: Instances → your instance → Security tab → the security group → Edit inbound rules → " +
			"Add rule: Type “Custom TCP”, Port range 8000, Source “My IP” (for your browser)"
		if len(server) > 0 {
			addRule += ", and a second one with Source “Custom” and the course server's address " + cidrList(server)
		}
		addRule += ", then Save rules."
		switch v.Kind {
		case KindPortAllowed:
			r.Summary = "Inbound TCP 8000 is open to the course server."
			r.Evidence = append(r.Evidence, ruleLines("rule: ", v.Matching, 5)...)
		case KindPortAllowedAnySource:
			r.Summary = "Inbound TCP 8000 is open."
			r.Evidence = append(r.Evidence, ruleLines("rule: ", v.Matching, 5)...)
			r.Evidence = append(r.Evidence, "note: the server's own address is not configured, so any source was counted")
		case KindSourceExcludesServer:
			r.Summary = "Port 8000 is open, but not to the course server's address."
			r.Evidence = append(r.Evidence, ruleLines("rule: ", v.Matching, 5)...)
			r.Evidence = append(r.Evidence, "course server address not covered: "+prefixList(v.Missing))
			r.Hint = fmt.Sprintf("The rule's source (for example “My IP”) lets only that address in; the grader connects from %s. "+
				"Keep your rule and add a second inbound rule: Custom TCP, port 8000, source %s. "+
				"(A source of 0.0.0.0/0 would let the grader in too, but also the whole internet.)", prefixList(v.Missing), cidrList(v.Missing))
		case KindSourceUnverifiable:
			r.Summary = "Port 8000 is open to a prefix list or another security group, which the grader cannot verify."
			r.Evidence = append(r.Evidence, ruleLines("rule: ", v.Matching, 5)...)
			r.Hint = "A security-group or prefix-list source does not include the course server unless your setup makes it so. " +
				"For this course, use a CIDR source: 0.0.0.0/0, or the course server's address."
		case KindUDPInsteadOfTCP:
			r.Summary = "The rule for port 8000 is UDP; a web app needs TCP."
			r.Evidence = append(r.Evidence, ruleLines("rule: ", v.Matching, 5)...)
			r.Hint = "Edit the inbound rule: change its Type from “Custom UDP” to “Custom TCP” (port 8000 stays), then Save rules."
		case KindOutboundRule:
			r.Summary = "Port 8000 is opened in the outbound rules, not the inbound ones."
			r.Evidence = append(r.Evidence, ruleLines("rule: ", v.Matching, 5)...)
			r.Hint = "Outbound rules govern connections the instance makes; browsers connect in. " +
				"Add the rule under “Inbound rules” instead: " + addRule
		case KindRuleInUnattached:
			g := v.Matching[0]
			r.Summary = "The rule for port 8000 is in a security group that is not attached to your instance."
			r.Evidence = append(r.Evidence, ruleLines("rule in unattached group: ", v.Matching, 5)...)
			r.Hint = fmt.Sprintf("Either attach %s to the instance (Instances → your instance → Actions → Security → "+
				"Change security groups → add it), or add the same rule to a group already attached.", groupLabel(g.GroupID, g.GroupName))
		case KindWrongPort:
			r.Summary = "Inbound rules open other ports, but not 8000."
			r.Evidence = append(r.Evidence, ruleLines("rule: ", v.Matching, 5)...)
			r.Hint = "The app listens on port 8000 (docker run -p 8000:8000). Edit the inbound rule's port range to 8000, " +
				"or add a rule: " + addRule
		default:
			r.Summary = "No inbound rule opens TCP port 8000."
			r.Evidence = append(r.Evidence, ruleLines("inbound rule: ", inboundOnly(allRules(s.Attached)), 8)...)
			r.Hint = addRule
		}
	})
}

// inboundOnly keeps the inbound rules.
func inboundOnly(rules []sgRule) []sgRule {
	var in []sgRule
	for _, r := range rules {
		if !r.Egress {
			in = append(in, r)
		}
	}
	return in
}

// prefixList prints prefixes as “a, b”, single addresses without /32.
func prefixList(ps []netip.Prefix) string {
	var out []string
	for _, p := range ps {
		if p.IsSingleIP() {
			out = append(out, p.Addr().String())
		} else {
			out = append(out, p.String())
		}
	}
	return strings.Join(out, ", ")
}

// cidrList prints prefixes as a source field takes them: “a/32, b/32”.
func cidrList(ps []netip.Prefix) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return strings.Join(out, ", ")
}

// SecurityGroupNoRiskyRules checks that nothing dangerous is open to the
// whole internet.
type SecurityGroupNoRiskyRules struct{}

// ID implements Check.
func (SecurityGroupNoRiskyRules) ID() string { return "security-group-no-risky-rules" }

// Title implements Check.
func (SecurityGroupNoRiskyRules) Title() string { return "No risky ports are open to the world" }

// Run implements Check.
func (c SecurityGroupNoRiskyRules) Run(ctx context.Context, env *Env) Result {
	return awsCheck(ctx, env, c, func(s *ec2Snapshot, r *Result) {
		r.Evidence = append(r.Evidence, attachedLine(s))
		docker, all, ssh := riskyRules(s)
		r.Evidence = append(r.Evidence, ruleLines("open to the world: ", docker, 5)...)
		r.Evidence = append(r.Evidence, ruleLines("open to the world: ", all, 5)...)
		r.Evidence = append(r.Evidence, ruleLines("open to the world: ", ssh, 5)...)
		switch {
		case len(docker) > 0:
			r.Status, r.Kind = StatusFail, KindDockerAPIOpen
			r.Summary = "The Docker API port (2375/2376) is open to the whole internet."
			r.Hint = fmt.Sprintf("Anyone who reaches the Docker API controls the host as root. Delete the inbound rule for %s now "+
				"(Edit inbound rules → Delete). Use the course's agent, which needs no open port, or limit the source to the course server's address.",
				portLabel(docker[0]))
		case len(all) > 0:
			r.Status, r.Kind = StatusWarn, KindAllTrafficOpen
			r.Summary = "All traffic is open to the whole internet."
			r.Hint = "Every port of the instance, including the Docker API if it listens on TCP, is reachable by anyone. " +
				"Replace the all-traffic rule with only the ports you need: TCP 8000 for the app, and SSH (22) from “My IP”."
		case len(ssh) > 0:
			r.Status, r.Kind = StatusWarn, KindSSHOpenToWorld
			r.Summary = "SSH (port 22) is open to the whole internet."
			r.Hint = "Bots try passwords on every public SSH port within minutes. Edit the SSH rule's source to “My IP”, " +
				"or connect with EC2 Instance Connect or Session Manager instead."
		default:
			r.Status, r.Kind = StatusPass, KindNoRiskyRules
			r.Summary = "No SSH, Docker API or all-traffic rule is open to the world."
		}
	})
}

// portLabel names a rule's ports for a hint.
func portLabel(r sgRule) string {
	if r.From == r.To {
		return fmt.Sprintf("port %d", r.From)
	}
	return fmt.Sprintf("ports %d-%d", r.From, r.To)
}

// Kinds of instance-type-free-tier.
const (
	KindFreeTierEligible    = "free-tier-eligible"
	KindNotFreeTier         = "not-free-tier"
	KindPlanNotDeclared     = "plan-not-declared"
	KindInstanceTypeUnknown = "instance-type-unknown"
	KindFreeTierTableAbsent = "free-tier-table-missing"
)

// hoursPerMonth is the AWS calculator's average month.
const hoursPerMonth = 730

// InstanceTypeFreeTier checks the instance type against the free tier of
// the student's declared plan.
type InstanceTypeFreeTier struct{}

// ID implements Check.
func (InstanceTypeFreeTier) ID() string { return "instance-type-free-tier" }

// Title implements Check.
func (InstanceTypeFreeTier) Title() string { return "The instance type is free-tier eligible" }

// Run implements Check.
func (c InstanceTypeFreeTier) Run(ctx context.Context, env *Env) Result {
	if env.FreeTier == nil {
		return Result{CheckID: c.ID(), Title: c.Title(), Started: time.Now(), Status: StatusError,
			Kind: KindFreeTierTableAbsent, Summary: "The server has no free-tier table to compare with.",
			Hint: "This is a server setting, not your mistake: tell your instructor."}
	}
	return awsCheck(ctx, env, c, func(s *ec2Snapshot, r *Result) {
		plan := strings.TrimSpace(env.Target.AWS.Plan)
		plans := []string{plan}
		if plan == "" {
			plans = []string{"legacy", "credits"}
		}
		eligibleAll, eligibleAny, price, knownAll := true, false, 0.0, true
		for _, p := range plans {
			eligible, hourly, known := env.FreeTier.Advise(s.Type, p)
			eligibleAll = eligibleAll && eligible
			eligibleAny = eligibleAny || eligible
			knownAll = knownAll && known
			price = hourly
			r.Evidence = append(r.Evidence, fmt.Sprintf("plan %s: %s eligible=%t", p, s.Type, eligible))
		}
		switch {
		case !knownAll:
			r.Status, r.Kind = StatusWarn, KindInstanceTypeUnknown
			r.Summary = fmt.Sprintf("The grader does not know whether %s is free-tier eligible.", s.Type)
			r.Hint = "Check the type's price on the EC2 pricing page; for this course a t3.micro is enough."
		case eligibleAll:
			r.Status, r.Kind = StatusPass, KindFreeTierEligible
			r.Summary = fmt.Sprintf("%s is free-tier eligible on your plan.", s.Type)
		case plan == "" && eligibleAny:
			r.Status, r.Kind = StatusWarn, KindPlanNotDeclared
			r.Summary = fmt.Sprintf("%s is free-tier eligible on only one of the two plans, and your plan is not declared.", s.Type)
			r.Hint = "Accounts created before 2025-07-15 have the legacy free tier; newer ones have credits. " +
				"Declare yours on the target page."
		default:
			r.Status, r.Kind = StatusWarn, KindNotFreeTier
			on := "the " + plan + " plan"
			if plan == "" {
				on = "either plan"
			}
			r.Summary = fmt.Sprintf("%s is not free-tier eligible on %s: it costs $%.4f an hour (about $%.2f a month).",
				s.Type, on, price, price*hoursPerMonth)
			r.Evidence = append(r.Evidence, fmt.Sprintf("on-demand price: $%.4f/h", price))
			r.Hint = "Stop the instance when you are not using it, or change its type: stop it, then Actions → Instance settings → " +
				"Change instance type → " + suggestedType(plan) + ", and start it again."
			if s.Type == "t2.micro" && plan == "credits" {
				r.Hint = "Accounts created on or after 2025-07-15 (credit plan) do not include t2.micro in the free plan. " + r.Hint
			}
		}
	})
}

// suggestedType is a free-tier type that suits the lab on each plan.
func suggestedType(plan string) string {
	if plan == "legacy" {
		return "t2.micro (or t3.micro where t2 is not offered)"
	}
	return "t3.micro"
}
