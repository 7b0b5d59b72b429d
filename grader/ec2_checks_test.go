package grader

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestSecurityGroupAllowsPort(t *testing.T) {
	m := sharedMoto(t)
	c := setupEC2(m, "", testRegion)
	tcp8000 := rule("tcp", 8000, 8000, "0.0.0.0/0")
	tests := []struct {
		name     string
		fix      fixture
		server   []string // nil: the server's address is testServerIP
		noServer bool     // the server's address is not configured
		status   Status
		kind     string
		hint     string // a fragment the hint must contain
	}{
		{name: "tcp 8000 from anywhere", fix: fixture{Ingress: []ec2types.IpPermission{tcp8000}},
			status: StatusPass, kind: KindPortAllowed},
		{name: "tcp 8000 from the server only", fix: fixture{Ingress: []ec2types.IpPermission{rule("tcp", 8000, 8000, testServerIP)}},
			status: StatusPass, kind: KindPortAllowed},
		{name: "port range 7000-9000", fix: fixture{Ingress: []ec2types.IpPermission{rule("tcp", 7000, 9000, "203.0.113.0/24")}},
			status: StatusPass, kind: KindPortAllowed},
		{name: "all traffic", fix: fixture{Ingress: []ec2types.IpPermission{rule("-1", 0, 0, "0.0.0.0/0")}},
			status: StatusPass, kind: KindPortAllowed},
		{name: "ipv6 anywhere, server on ipv6", fix: fixture{Ingress: []ec2types.IpPermission{rule("tcp", 8000, 8000, "::/0")}},
			server: []string{"2001:db8::10/128"}, status: StatusPass, kind: KindPortAllowed},
		{name: "ipv6 anywhere, server on ipv4", fix: fixture{Ingress: []ec2types.IpPermission{rule("tcp", 8000, 8000, "::/0")}},
			status: StatusFail, kind: KindSourceExcludesServer, hint: "203.0.113.10"},
		{name: "two server addresses, one covered", fix: fixture{Ingress: []ec2types.IpPermission{rule("tcp", 8000, 8000, testServerIP)}},
			server: []string{testServerIP, "192.0.2.55/32"}, status: StatusFail, kind: KindSourceExcludesServer, hint: "192.0.2.55"},
		{name: "student's own address only", fix: fixture{Ingress: []ec2types.IpPermission{rule("tcp", 8000, 8000, studentCIDR)}},
			status: StatusFail, kind: KindSourceExcludesServer, hint: "0.0.0.0/0"},
		{name: "student's own address, server not configured", fix: fixture{Ingress: []ec2types.IpPermission{rule("tcp", 8000, 8000, studentCIDR)}},
			noServer: true, status: StatusPass, kind: KindPortAllowedAnySource},
		{name: "source is another group", fix: fixture{IngressFromGroup: true},
			status: StatusWarn, kind: KindSourceUnverifiable, hint: "CIDR"},
		{name: "port 80", fix: fixture{Ingress: []ec2types.IpPermission{rule("tcp", 80, 80, "0.0.0.0/0"), rule("tcp", 22, 22, studentCIDR)}},
			status: StatusFail, kind: KindWrongPort, hint: "8000"},
		{name: "port 8080", fix: fixture{Ingress: []ec2types.IpPermission{rule("tcp", 8080, 8080, "0.0.0.0/0")}},
			status: StatusFail, kind: KindWrongPort, hint: "8000"},
		{name: "udp 8000", fix: fixture{Ingress: []ec2types.IpPermission{rule("udp", 8000, 8000, "0.0.0.0/0")}},
			status: StatusFail, kind: KindUDPInsteadOfTCP, hint: "Custom TCP"},
		{name: "outbound 8000", fix: fixture{Egress: []ec2types.IpPermission{rule("tcp", 8000, 8000, "0.0.0.0/0")}},
			status: StatusFail, kind: KindOutboundRule, hint: "Inbound rules"},
		{name: "rule in an unattached group", fix: fixture{Ingress: []ec2types.IpPermission{rule("tcp", 22, 22, studentCIDR)},
			Unattached: []ec2types.IpPermission{tcp8000}},
			status: StatusFail, kind: KindRuleInUnattached, hint: "Change security groups"},
		{name: "no inbound rule", fix: fixture{}, status: StatusFail, kind: KindNoInboundRule, hint: "Port range 8000"},
		{name: "only ssh", fix: fixture{Ingress: []ec2types.IpPermission{rule("tcp", 22, 22, "0.0.0.0/0")}},
			status: StatusFail, kind: KindNoInboundRule, hint: "Port range 8000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := keyEnv(m, tt.fix.create(t, c))
			switch {
			case tt.noServer:
				env.ConfigureAWS(AWSOptions{})
			case tt.server != nil:
				var ps []netip.Prefix
				for _, s := range tt.server {
					ps = append(ps, netip.MustParsePrefix(s))
				}
				env.ConfigureAWS(AWSOptions{ServerCIDRs: ps})
			}
			r := runCheck(t, SecurityGroupAllowsPort{}, env)
			if r.Status != tt.status || r.Kind != tt.kind {
				t.Fatalf("got %s/%s, want %s/%s\n%s\n%s", r.Status, r.Kind, tt.status, tt.kind, r.Summary, strings.Join(r.Evidence, "\n"))
			}
			if !strings.Contains(r.Hint, tt.hint) {
				t.Errorf("hint %q lacks %q", r.Hint, tt.hint)
			}
			if tt.status == StatusPass && r.Hint != "" {
				t.Errorf("a pass has a hint: %q", r.Hint)
			}
			if tt.noServer && !strings.Contains(strings.Join(r.Evidence, "\n"), "not configured") {
				t.Errorf("evidence lacks the note on the unconfigured server address: %q", r.Evidence)
			}
		})
	}
}

func TestSecurityGroupNoRiskyRules(t *testing.T) {
	m := sharedMoto(t)
	c := setupEC2(m, "", testRegion)
	app := rule("tcp", 8000, 8000, "0.0.0.0/0")
	tests := []struct {
		name    string
		ingress []ec2types.IpPermission
		status  Status
		kind    string
		hint    string
	}{
		{"app only", []ec2types.IpPermission{app}, StatusPass, KindNoRiskyRules, ""},
		{"ssh from my ip", []ec2types.IpPermission{app, rule("tcp", 22, 22, studentCIDR)}, StatusPass, KindNoRiskyRules, ""},
		{"docker 2375 from my ip", []ec2types.IpPermission{rule("tcp", 2375, 2375, studentCIDR)}, StatusPass, KindNoRiskyRules, ""},
		{"ssh to the world", []ec2types.IpPermission{app, rule("tcp", 22, 22, "0.0.0.0/0")}, StatusWarn, KindSSHOpenToWorld, "My IP"},
		{"ssh to the ipv6 world", []ec2types.IpPermission{rule("tcp", 22, 22, "::/0")}, StatusWarn, KindSSHOpenToWorld, "My IP"},
		{"all traffic to the world", []ec2types.IpPermission{rule("-1", 0, 0, "0.0.0.0/0")}, StatusWarn, KindAllTrafficOpen, "only the ports"},
		{"all tcp ports to the world", []ec2types.IpPermission{rule("tcp", 0, 65535, "0.0.0.0/0")}, StatusWarn, KindAllTrafficOpen, "only the ports"},
		{"docker 2375 to the world", []ec2types.IpPermission{app, rule("tcp", 2375, 2375, "0.0.0.0/0")}, StatusFail, KindDockerAPIOpen, "port 2375"},
		{"docker 2376 to the ipv6 world", []ec2types.IpPermission{rule("tcp", 2376, 2376, "::/0")}, StatusFail, KindDockerAPIOpen, "port 2376"},
		{"docker range and ssh", []ec2types.IpPermission{rule("tcp", 2375, 2376, "0.0.0.0/0"), rule("tcp", 22, 22, "0.0.0.0/0")},
			StatusFail, KindDockerAPIOpen, "ports 2375-2376"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := keyEnv(m, fixture{Ingress: tt.ingress}.create(t, c))
			r := runCheck(t, SecurityGroupNoRiskyRules{}, env)
			if r.Status != tt.status || r.Kind != tt.kind {
				t.Fatalf("got %s/%s, want %s/%s\n%s\n%s", r.Status, r.Kind, tt.status, tt.kind, r.Summary, strings.Join(r.Evidence, "\n"))
			}
			if !strings.Contains(r.Hint, tt.hint) {
				t.Errorf("hint %q lacks %q", r.Hint, tt.hint)
			}
		})
	}
}

func TestInstanceTypeFreeTier(t *testing.T) {
	m := sharedMoto(t)
	c := setupEC2(m, "", testRegion)
	ids := map[string]string{}
	for _, typ := range []string{"t2.micro", "t3.micro", "m5.large", "c5.xlarge"} {
		ids[typ] = fixture{Type: typ}.create(t, c)
	}
	tests := []struct {
		typ, plan string
		noTable   bool
		status    Status
		kind      string
		text      string // in the summary or the hint
	}{
		{typ: "t2.micro", plan: "legacy", status: StatusPass, kind: KindFreeTierEligible},
		{typ: "t3.micro", plan: "credits", status: StatusPass, kind: KindFreeTierEligible},
		{typ: "t2.micro", plan: "credits", status: StatusWarn, kind: KindNotFreeTier, text: "$0.0116 an hour"},
		{typ: "t2.micro", plan: "credits", status: StatusWarn, kind: KindNotFreeTier, text: "2025-07-15"},
		{typ: "m5.large", plan: "credits", status: StatusWarn, kind: KindNotFreeTier, text: "$0.0960 an hour (about $70.08 a month)"},
		{typ: "m5.large", plan: "legacy", status: StatusWarn, kind: KindNotFreeTier, text: "t2.micro"},
		{typ: "t3.micro", plan: "", status: StatusWarn, kind: KindPlanNotDeclared, text: "Declare"},
		{typ: "m5.large", plan: "", status: StatusWarn, kind: KindNotFreeTier, text: "either plan"},
		{typ: "c5.xlarge", plan: "credits", status: StatusWarn, kind: KindInstanceTypeUnknown, text: "t3.micro"},
		{typ: "t3.micro", plan: "credits", noTable: true, status: StatusError, kind: KindFreeTierTableAbsent},
	}
	for _, tt := range tests {
		t.Run(tt.typ+"/"+tt.plan, func(t *testing.T) {
			env := keyEnv(m, ids[tt.typ])
			env.Target.AWS.Plan = tt.plan
			if tt.noTable {
				env.FreeTier = nil
			}
			r := runCheck(t, InstanceTypeFreeTier{}, env)
			if r.Status != tt.status || r.Kind != tt.kind {
				t.Fatalf("got %s/%s, want %s/%s: %s %q", r.Status, r.Kind, tt.status, tt.kind, r.Summary, r.Evidence)
			}
			if !strings.Contains(r.Summary+" "+r.Hint, tt.text) {
				t.Errorf("summary %q / hint %q lack %q", r.Summary, r.Hint, tt.text)
			}
		})
	}
}

// TestOneSnapshotPerStep: the three checks of the step share one snapshot.
func TestOneSnapshotPerStep(t *testing.T) {
	m := sharedMoto(t)
	rec := newRecorder(t, m.URL)
	id := fixture{Ingress: []ec2types.IpPermission{rule("tcp", 8000, 8000, "0.0.0.0/0")}}.create(t, setupEC2(m, "", testRegion))
	env := keyEnv(m, id)
	env.Target.AWS.Endpoint = rec.URL
	for _, c := range awsChecks() {
		runCheck(t, c, env)
	}
	got := map[string]int{}
	for _, r := range rec.Requests() {
		got[r.Action]++
	}
	if len(rec.Requests()) != 2 || got["DescribeInstances"] != 1 || got["DescribeSecurityGroups"] != 1 {
		t.Errorf("requests for one step: %v, want one DescribeInstances and one DescribeSecurityGroups", got)
	}
}

// TestInstanceAddress: the app's address comes from the snapshot when the
// target has none; a terminated instance is a failure with its own kind.
func TestInstanceAddress(t *testing.T) {
	m := sharedMoto(t)
	c := setupEC2(m, "", testRegion)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id := fixture{Ingress: []ec2types.IpPermission{rule("tcp", 8000, 8000, "0.0.0.0/0")}}.create(t, c)
	env := keyEnv(m, id)
	ip, err := env.instancePublicIP(ctx)
	if err != nil || net.ParseIP(ip) == nil {
		t.Fatalf("instancePublicIP = %q, %v", ip, err)
	}
	if u, err := env.appURL(ctx); err != nil || u != "http://"+ip+":8000/" {
		t.Errorf("appURL = %q, %v", u, err)
	}

	gone := fixture{}.create(t, c)
	if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{gone}}); err != nil {
		t.Fatal(err)
	}
	env = keyEnv(m, gone)
	if _, err := env.instancePublicIP(ctx); err == nil || !strings.Contains(err.Error(), KindInstanceTerminated) {
		t.Errorf("terminated instance: instancePublicIP error %v", err)
	}
	for _, ch := range awsChecks() {
		if r := runCheck(t, ch, env); r.Status != StatusFail || r.Kind != KindInstanceTerminated {
			t.Errorf("%s on a terminated instance: %s/%s", ch.ID(), r.Status, r.Kind)
		}
	}
}
