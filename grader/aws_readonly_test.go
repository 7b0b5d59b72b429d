package grader

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestOnlyReadCallsReachAWS runs every AWS check and the connection test,
// with keys and through a role, behind a proxy that records each request's
// Action: nothing but Describe calls and the two STS calls may appear.
func TestOnlyReadCallsReachAWS(t *testing.T) {
	m := sharedMoto(t)
	id := fixture{
		Ingress:    []ec2types.IpPermission{rule("tcp", 8000, 8000, "0.0.0.0/0"), rule("tcp", 22, 22, "0.0.0.0/0")},
		Egress:     []ec2types.IpPermission{rule("tcp", 8000, 8000, "0.0.0.0/0")},
		Unattached: []ec2types.IpPermission{rule("tcp", 2375, 2375, "0.0.0.0/0")},
	}.create(t, setupEC2(m, "", testRegion))
	rec := newRecorder(t, m.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	keys := keyEnv(m, id)
	keys.Target.AWS.Endpoint = rec.URL
	role := roleEnv(m, rec.URL, id, NewExternalID())
	for _, env := range []*Env{keys, role} {
		for _, c := range awsChecks() {
			if r := runCheck(t, c, env); r.Status == StatusError {
				t.Errorf("%s: %s %s", c.ID(), r.Kind, r.Summary)
			}
		}
		if _, err := env.instancePublicIP(ctx); err != nil {
			t.Errorf("instancePublicIP: %v", err)
		}
		if r := TestAWSConnection(ctx, keyEnvWith(env)); r.Status != StatusPass {
			t.Errorf("test connection: %s %s", r.Kind, r.Summary)
		}
	}

	// Even a grader bug that tried to write would be stopped before the
	// request is signed.
	c, err := newAWSClients(ctx, keys.Target.AWS, AWSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err == nil || !strings.Contains(err.Error(), "only reads") {
		t.Errorf("RunInstances through the grader's client: %v", err)
	}
	_, err = c.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String("sg-12345678")})
	if err == nil || !strings.Contains(err.Error(), "only reads") {
		t.Errorf("AuthorizeSecurityGroupIngress through the grader's client: %v", err)
	}

	seen := map[string]int{}
	for _, r := range rec.Requests() {
		seen[r.Action]++
		if !strings.HasPrefix(r.Action, "Describe") && r.Action != "AssumeRole" && r.Action != "GetCallerIdentity" {
			t.Errorf("the grader sent %q", r.Action)
		}
	}
	for _, want := range []string{"DescribeInstances", "DescribeSecurityGroups", "AssumeRole", "GetCallerIdentity"} {
		if seen[want] == 0 {
			t.Errorf("the proxy saw no %s (saw %v): is it really in the path?", want, seen)
		}
	}
	t.Logf("actions sent: %v", seen)
}
