package grader

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/coursekit/workshop/grader/awstest"
	"github.com/coursekit/workshop/internal/testenv"
)

// testRegion is where the fixtures live; testServerIP plays the course
// server's egress address; studentIP is a student's own /32.
const (
	testRegion   = "us-east-1"
	testServerIP = "203.0.113.10/32"
	studentCIDR  = "198.51.100.7/32"
)

// sharedMoto returns the test binary's moto_server, or stops the test.
func sharedMoto(t *testing.T) *awstest.Moto {
	t.Helper()
	m, err := awstest.Shared()
	testenv.Require(t, "moto", err)
	return m
}

// setupEC2 is a client for creating fixtures in moto: our test account,
// not a student's, so it may do more than describe.
func setupEC2(m *awstest.Moto, endpoint, region string) *ec2.Client {
	cfg := m.Config(region, "AKIDSETUPSETUPSETUP1", "setup-secret")
	if endpoint != "" {
		cfg.BaseEndpoint = aws.String(endpoint)
	}
	return ec2.NewFromConfig(cfg)
}

// rule builds one ingress or egress permission.
func rule(proto string, from, to int32, cidrs ...string) ec2types.IpPermission {
	p := ec2types.IpPermission{IpProtocol: aws.String(proto)}
	if proto != "-1" {
		p.FromPort, p.ToPort = aws.Int32(from), aws.Int32(to)
	}
	for _, c := range cidrs {
		if netip.MustParsePrefix(c).Addr().Is4() {
			p.IpRanges = append(p.IpRanges, ec2types.IpRange{CidrIp: aws.String(c)})
		} else {
			p.Ipv6Ranges = append(p.Ipv6Ranges, ec2types.Ipv6Range{CidrIpv6: aws.String(c)})
		}
	}
	return p
}

// fixture describes one student's setup: an instance alone in its own VPC
// with one attached group, and maybe a second, unattached group.
type fixture struct {
	Type       string // t3.micro when empty
	Ingress    []ec2types.IpPermission
	Egress     []ec2types.IpPermission
	Unattached []ec2types.IpPermission
	// IngressFromGroup adds a rule for 8000 whose source is another group.
	IngressFromGroup bool
}

var (
	amiOnce sync.Once
	amiID   string
	amiErr  error
	vpcSeq  atomic.Int32
)

// fakeAMI is one of moto's built-in images.
func fakeAMI(ctx context.Context, c *ec2.Client) (string, error) {
	amiOnce.Do(func() {
		out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{
			Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"amzn-ami-hvm-*"}}},
		})
		switch {
		case err != nil:
			amiErr = err
		case len(out.Images) == 0:
			amiErr = fmt.Errorf("moto lists no amzn-ami-hvm image")
		default:
			amiID = aws.ToString(out.Images[0].ImageId)
		}
	})
	return amiID, amiErr
}

// create builds the fixture in moto and returns the instance id.
func (f fixture) create(t *testing.T, c *ec2.Client) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("moto setup: %v", err)
		}
	}
	n := vpcSeq.Add(1)
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(fmt.Sprintf("10.%d.0.0/16", n%250))})
	must(err)
	vpcID := vpc.Vpc.VpcId
	subnet, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String(fmt.Sprintf("10.%d.1.0/24", n%250))})
	must(err)
	_, err = c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: subnet.Subnet.SubnetId,
		MapPublicIpOnLaunch: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}})
	must(err)
	group := func(name string) string {
		g, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
			GroupName: aws.String(fmt.Sprintf("%s-%d", name, n)), Description: aws.String(name), VpcId: vpcID})
		must(err)
		return aws.ToString(g.GroupId)
	}
	sg := group("launch-wizard")
	if len(f.Ingress) > 0 {
		_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &sg, IpPermissions: f.Ingress})
		must(err)
	}
	if f.IngressFromGroup {
		peer := group("peer")
		_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &sg,
			IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8000), ToPort: aws.Int32(8000),
				UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: &peer}}}}})
		must(err)
	}
	if len(f.Egress) > 0 {
		_, err = c.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: &sg, IpPermissions: f.Egress})
		must(err)
	}
	if len(f.Unattached) > 0 {
		other := group("web-8000")
		_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &other, IpPermissions: f.Unattached})
		must(err)
	}
	ami, err := fakeAMI(ctx, c)
	must(err)
	typ := f.Type
	if typ == "" {
		typ = "t3.micro"
	}
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: &ami, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: ec2types.InstanceType(typ), SubnetId: subnet.Subnet.SubnetId, SecurityGroupIds: []string{sg}})
	must(err)
	return aws.ToString(run.Instances[0].InstanceId)
}

// testAdvisor is the facts file's table, enough for the tests; the server
// passes the freetier package's advisor instead.
type testAdvisor struct{}

func (testAdvisor) Advise(instanceType, plan string) (bool, float64, bool) {
	prices := map[string]float64{"t2.micro": 0.0116, "t3.micro": 0.0104, "t3.small": 0.0208, "m5.large": 0.096}
	eligible := map[string][]string{"legacy": {"t2.micro"}, "credits": {"t3.micro", "t3.small"}}
	price, known := prices[instanceType]
	for _, e := range eligible[plan] {
		if e == instanceType {
			return true, price, known
		}
	}
	return false, price, known
}

// keyEnv is an Env for instance id reached with (any) static keys, as moto
// accepts them, with the course server at testServerIP.
func keyEnv(m *awstest.Moto, id string) *Env {
	env := &Env{Target: Target{AWS: AWSTarget{Region: testRegion, InstanceID: id, Plan: "credits",
		AccessKeyID: "AKIDSTUDENTSTUDENT01", SecretAccessKey: "student-secret", Endpoint: m.URL}},
		FreeTier: testAdvisor{}}
	env.ConfigureAWS(AWSOptions{ServerCIDRs: []netip.Prefix{netip.MustParsePrefix(testServerIP)}, CourseAccountID: "111122223333"})
	return env
}

// runCheck runs one check with a deadline.
func runCheck(t *testing.T, c Check, env *Env) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := c.Run(ctx, env)
	if r.CheckID != c.ID() || r.Summary == "" {
		t.Errorf("%s: malformed result %+v", c.ID(), r)
	}
	return r
}
