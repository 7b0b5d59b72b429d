package grader

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// sgRule is one security-group rule with one source (or destination): the
// EC2 API groups several sources under one permission; the checks reason
// about them one at a time.
type sgRule struct {
	GroupID   string
	GroupName string
	Egress    bool
	Proto     string // tcp, udp, icmp, icmpv6, all, or the protocol number
	From, To  int32  // inclusive port range; 0-65535 for all ports
	// Exactly one of the sources is set.
	CIDR       netip.Prefix
	PrefixList string
	RefGroup   string
}

// normalizeProto maps EC2's protocol spellings ("6", "tcp", "-1") to one.
func normalizeProto(p string) string {
	switch strings.ToLower(p) {
	case "6", "tcp":
		return "tcp"
	case "17", "udp":
		return "udp"
	case "1", "icmp":
		return "icmp"
	case "58", "icmpv6":
		return "icmpv6"
	case "-1", "all", "":
		return "all"
	}
	return strings.ToLower(p)
}

// groupRules flattens a group's inbound and outbound permissions.
func groupRules(g ec2types.SecurityGroup) []sgRule {
	var rules []sgRule
	add := func(egress bool, perms []ec2types.IpPermission) {
		for _, p := range perms {
			base := sgRule{GroupID: aws.ToString(g.GroupId), GroupName: aws.ToString(g.GroupName),
				Egress: egress, Proto: normalizeProto(aws.ToString(p.IpProtocol)), From: 0, To: 65535}
			if (base.Proto == "tcp" || base.Proto == "udp") && p.FromPort != nil && p.ToPort != nil &&
				*p.FromPort >= 0 && *p.ToPort >= 0 {
				base.From, base.To = *p.FromPort, *p.ToPort
			}
			for _, r := range p.IpRanges {
				if pfx, err := netip.ParsePrefix(aws.ToString(r.CidrIp)); err == nil {
					x := base
					x.CIDR = pfx.Masked()
					rules = append(rules, x)
				}
			}
			for _, r := range p.Ipv6Ranges {
				if pfx, err := netip.ParsePrefix(aws.ToString(r.CidrIpv6)); err == nil {
					x := base
					x.CIDR = pfx.Masked()
					rules = append(rules, x)
				}
			}
			for _, pl := range p.PrefixListIds {
				x := base
				x.PrefixList = aws.ToString(pl.PrefixListId)
				rules = append(rules, x)
			}
			for _, ug := range p.UserIdGroupPairs {
				x := base
				x.RefGroup = aws.ToString(ug.GroupId)
				rules = append(rules, x)
			}
		}
	}
	add(false, g.IpPermissions)
	add(true, g.IpPermissionsEgress)
	return rules
}

// allRules flattens many groups.
func allRules(groups []ec2types.SecurityGroup) []sgRule {
	var rules []sgRule
	for _, g := range groups {
		rules = append(rules, groupRules(g)...)
	}
	return rules
}

// carries says whether the rule lets protocol proto (tcp or udp) through.
func (r sgRule) carries(proto string) bool { return r.Proto == "all" || r.Proto == proto }

// coversPort says whether the rule's port range includes port.
func (r sgRule) coversPort(port int32) bool { return r.From <= port && port <= r.To }

// allTraffic says whether the rule opens every port of every protocol, or
// every TCP port (which is the same for what a student's host exposes).
func (r sgRule) allTraffic() bool {
	return r.Proto == "all" || (r.Proto == "tcp" && r.From == 0 && r.To == 65535)
}

// world says whether the source is the whole internet.
func (r sgRule) world() bool { return r.CIDR.IsValid() && r.CIDR.Bits() == 0 }

// source describes the rule's source in the console's words.
func (r sgRule) source() string {
	switch {
	case r.CIDR.IsValid():
		return r.CIDR.String()
	case r.PrefixList != "":
		return "prefix list " + r.PrefixList
	case r.RefGroup != "":
		return "security group " + r.RefGroup
	}
	return "?"
}

// String describes the rule as the console lists it, on one line.
func (r sgRule) String() string {
	dir, fromTo := "inbound", "from"
	if r.Egress {
		dir, fromTo = "outbound", "to"
	}
	proto := strings.ToUpper(r.Proto)
	ports := fmt.Sprintf(" port %d", r.From)
	switch {
	case r.Proto == "all":
		proto, ports = "all traffic", ""
	case r.Proto != "tcp" && r.Proto != "udp":
		ports = ""
	case r.From == 0 && r.To == 65535:
		ports = " all ports"
	case r.From != r.To:
		ports = fmt.Sprintf(" ports %d-%d", r.From, r.To)
	}
	return fmt.Sprintf("%s: %s %s%s %s %s", groupLabel(r.GroupID, r.GroupName), dir, proto, ports, fromTo, r.source())
}

// groupLabel names a group as "sg-0abc (launch-wizard-1)".
func groupLabel(id, name string) string {
	if name == "" {
		return id
	}
	return fmt.Sprintf("%s (%s)", id, name)
}

// containsAll says whether the union of the rules' CIDRs includes every
// server prefix, and lists the prefixes left out.
func containsAll(rules []sgRule, server []netip.Prefix) (missing []netip.Prefix) {
	for _, s := range server {
		covered := false
		for _, r := range rules {
			if r.CIDR.IsValid() && r.CIDR.Addr().Is4() == s.Addr().Is4() &&
				r.CIDR.Bits() <= s.Bits() && r.CIDR.Contains(s.Addr()) {
				covered = true
				break
			}
		}
		if !covered {
			missing = append(missing, s)
		}
	}
	return missing
}

// portVerdict is what the rules say about inbound TCP to one port.
type portVerdict struct {
	Kind     string   // "" when allowed
	Status   Status   // pass, fail or warn
	Matching []sgRule // the rules the verdict rests on
	Missing  []netip.Prefix
}

// Near-miss kinds of security-group-allows-8000.
const (
	KindPortAllowed          = "port-allowed"
	KindPortAllowedAnySource = "port-allowed-source-not-checked"
	KindSourceUnverifiable   = "source-unverifiable"
	KindSourceExcludesServer = "source-excludes-server"
	KindUDPInsteadOfTCP      = "udp-instead-of-tcp"
	KindOutboundRule         = "outbound-rule-instead-of-inbound"
	KindRuleInUnattached     = "rule-in-unattached-group"
	KindWrongPort            = "rule-on-other-port"
	KindNoInboundRule        = "no-inbound-rule"
)

// judgePort decides whether the attached groups let the server reach TCP
// port on the instance, and otherwise names the nearest miss.
func judgePort(s *ec2Snapshot, port int32, server []netip.Prefix) portVerdict {
	attached := allRules(s.Attached)
	var inbound, ipSources, unverifiable []sgRule
	for _, r := range attached {
		if !r.Egress && r.carries("tcp") && r.coversPort(port) {
			inbound = append(inbound, r)
			if r.CIDR.IsValid() {
				ipSources = append(ipSources, r)
			} else {
				unverifiable = append(unverifiable, r)
			}
		}
	}
	if len(ipSources) > 0 {
		if len(server) == 0 {
			return portVerdict{Kind: KindPortAllowedAnySource, Status: StatusPass, Matching: ipSources}
		}
		missing := containsAll(ipSources, server)
		if len(missing) == 0 {
			return portVerdict{Kind: KindPortAllowed, Status: StatusPass, Matching: ipSources}
		}
		if len(unverifiable) == 0 {
			return portVerdict{Kind: KindSourceExcludesServer, Status: StatusFail, Matching: ipSources, Missing: missing}
		}
	}
	if len(unverifiable) > 0 {
		return portVerdict{Kind: KindSourceUnverifiable, Status: StatusWarn, Matching: inbound}
	}
	var udp, egress, others []sgRule
	for _, r := range attached {
		switch {
		case !r.Egress && r.Proto == "udp" && r.coversPort(port):
			udp = append(udp, r)
		case r.Egress && !r.allTraffic() && (r.Proto == "tcp" || r.Proto == "udp") && r.coversPort(port):
			egress = append(egress, r)
		case !r.Egress && r.Proto == "tcp" && !r.coversPort(22):
			others = append(others, r)
		}
	}
	switch {
	case len(udp) > 0:
		return portVerdict{Kind: KindUDPInsteadOfTCP, Status: StatusFail, Matching: udp}
	case len(egress) > 0:
		return portVerdict{Kind: KindOutboundRule, Status: StatusFail, Matching: egress}
	}
	var elsewhere []sgRule
	for _, r := range allRules(s.Others) {
		// Only CIDR sources: every VPC's "default" group lets in all
		// traffic from its own members, which is no student's doing.
		if !r.Egress && r.carries("tcp") && r.coversPort(port) && r.CIDR.IsValid() {
			elsewhere = append(elsewhere, r)
		}
	}
	switch {
	case len(elsewhere) > 0:
		return portVerdict{Kind: KindRuleInUnattached, Status: StatusFail, Matching: elsewhere}
	case len(others) > 0:
		return portVerdict{Kind: KindWrongPort, Status: StatusFail, Matching: others}
	}
	return portVerdict{Kind: KindNoInboundRule, Status: StatusFail}
}

// Kinds of security-group-no-risky-rules.
const (
	KindNoRiskyRules         = "no-risky-rules"
	KindDockerAPIOpen        = "docker-api-open-to-world"
	KindAllTrafficOpen       = "all-traffic-open-to-world"
	KindSSHOpenToWorld       = "ssh-open-to-world"
	dockerPlainPort          = 2375
	dockerTLSPort            = 2376
	sshPort            int32 = 22
)

// riskyRules sorts the attached groups' world-open inbound rules by risk:
// a Docker API port open to the world gives anyone root on the host;
// all traffic or SSH open to the world is a habit to lose.
func riskyRules(s *ec2Snapshot) (docker, all, ssh []sgRule) {
	for _, r := range allRules(s.Attached) {
		if r.Egress || !r.world() {
			continue
		}
		switch {
		case r.allTraffic():
			all = append(all, r)
		case r.carries("tcp") && (r.coversPort(dockerPlainPort) || r.coversPort(dockerTLSPort)):
			docker = append(docker, r)
		case r.carries("tcp") && r.coversPort(sshPort):
			ssh = append(ssh, r)
		}
	}
	return docker, all, ssh
}
