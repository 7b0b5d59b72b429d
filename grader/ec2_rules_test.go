package grader

import (
	"net/netip"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// These cover rule shapes moto does not produce the way AWS does
// (protocol numbers, prefix lists, a VPC's default group).
func TestJudgePortShapes(t *testing.T) {
	server := []netip.Prefix{netip.MustParsePrefix(testServerIP)}
	group := func(id string, in, out []ec2types.IpPermission) ec2types.SecurityGroup {
		return ec2types.SecurityGroup{GroupId: aws.String(id), GroupName: aws.String(id), IpPermissions: in, IpPermissionsEgress: out}
	}
	allOut := []ec2types.IpPermission{rule("-1", 0, 0, "0.0.0.0/0")}
	defaultGroup := group("sg-default", []ec2types.IpPermission{{IpProtocol: aws.String("-1"),
		UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String("sg-default")}}}}, allOut)
	prefixList := ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8000), ToPort: aws.Int32(8000),
		PrefixListIds: []ec2types.PrefixListId{{PrefixListId: aws.String("pl-0123abcd")}}}
	tests := []struct {
		name     string
		attached []ec2types.SecurityGroup
		others   []ec2types.SecurityGroup
		kind     string
	}{
		{"protocol number 6", []ec2types.SecurityGroup{group("sg-a", []ec2types.IpPermission{rule("6", 8000, 8000, "0.0.0.0/0")}, allOut)},
			nil, KindPortAllowed},
		{"protocol number 17", []ec2types.SecurityGroup{group("sg-a", []ec2types.IpPermission{rule("17", 8000, 8000, "0.0.0.0/0")}, allOut)},
			nil, KindUDPInsteadOfTCP},
		{"prefix list", []ec2types.SecurityGroup{group("sg-a", []ec2types.IpPermission{prefixList}, allOut)}, nil, KindSourceUnverifiable},
		{"prefix list beside a student's /32", []ec2types.SecurityGroup{group("sg-a", []ec2types.IpPermission{prefixList, rule("tcp", 8000, 8000, studentCIDR)}, allOut)},
			nil, KindSourceUnverifiable},
		{"default egress only is no outbound near miss", []ec2types.SecurityGroup{group("sg-a", nil, allOut)}, nil, KindNoInboundRule},
		{"the VPC's default group is no unattached near miss", []ec2types.SecurityGroup{group("sg-a", nil, allOut)},
			[]ec2types.SecurityGroup{defaultGroup}, KindNoInboundRule},
		{"second attached group carries the rule", []ec2types.SecurityGroup{
			group("sg-ssh", []ec2types.IpPermission{rule("tcp", 22, 22, studentCIDR)}, allOut),
			group("sg-web", []ec2types.IpPermission{rule("tcp", 8000, 8000, "0.0.0.0/0")}, nil)}, nil, KindPortAllowed},
		{"server covered by a wider block", []ec2types.SecurityGroup{group("sg-a", []ec2types.IpPermission{rule("tcp", 8000, 8000, "203.0.0.0/16")}, allOut)},
			nil, KindPortAllowed},
		{"icmp is not tcp", []ec2types.SecurityGroup{group("sg-a", []ec2types.IpPermission{{IpProtocol: aws.String("icmp"), FromPort: aws.Int32(-1), ToPort: aws.Int32(-1),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}, allOut)}, nil, KindNoInboundRule},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := judgePort(&ec2Snapshot{Attached: tt.attached, Others: tt.others}, appPort, server)
			if v.Kind != tt.kind {
				t.Errorf("kind %s, want %s (%v)", v.Kind, tt.kind, v.Matching)
			}
		})
	}
}

func TestRuleString(t *testing.T) {
	g := ec2types.SecurityGroup{GroupId: aws.String("sg-1"), GroupName: aws.String("web"),
		IpPermissions:       []ec2types.IpPermission{rule("tcp", 8000, 8000, "0.0.0.0/0", "::/0"), rule("-1", 0, 0, "10.0.0.0/8"), rule("udp", 1000, 2000, studentCIDR)},
		IpPermissionsEgress: []ec2types.IpPermission{rule("tcp", 0, 65535, "0.0.0.0/0")}}
	var got []string
	for _, r := range groupRules(g) {
		got = append(got, r.String())
	}
	want := []string{
		"sg-1 (web): inbound TCP port 8000 from 0.0.0.0/0",
		"sg-1 (web): inbound TCP port 8000 from ::/0",
		"sg-1 (web): inbound all traffic from 10.0.0.0/8",
		"sg-1 (web): inbound UDP ports 1000-2000 from 198.51.100.7/32",
		"sg-1 (web): outbound TCP all ports to 0.0.0.0/0",
	}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("rule %d: %q, want %q", i, got[i], want[i])
		}
	}
}
