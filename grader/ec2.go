package grader

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// maxGroupPages bounds DescribeSecurityGroups paging: a student's VPC has a
// handful of groups, and a runaway account must not stall a step.
const maxGroupPages = 5

// instanceIDPattern is the shape of EC2 instance ids, old (8 hex digits)
// and current (17).
var instanceIDPattern = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)

// awsCache is the EC2 side of an Env: one lazily taken snapshot of the
// instance and its security groups, shared by all checks of a step run.
type awsCache struct {
	opts AWSOptions

	mu      sync.Mutex
	taken   bool
	snap    *ec2Snapshot
	clients *awsClients
	err     error
}

// ec2Snapshot is what the EC2 checks look at.
type ec2Snapshot struct {
	Region     string
	InstanceID string
	State      string // running, stopped, …
	Type       string // t3.micro
	PublicIP   string
	PublicDNS  string
	IPv6       []string
	VPCID      string
	// Attached are the instance's security groups (from the instance and
	// from each of its network interfaces), in a stable order.
	Attached []ec2types.SecurityGroup
	// Others are the VPC's groups not attached to the instance: where a
	// student's rule often sits by mistake.
	Others []ec2types.SecurityGroup
}

// ConfigureAWS sets the server-wide AWS options for the checks run with
// this Env. Call it before running checks; without it, a target needs a
// role or keys, and the port-8000 check counts any source.
func (e *Env) ConfigureAWS(o AWSOptions) {
	e.aws.mu.Lock()
	defer e.aws.mu.Unlock()
	e.aws.opts = o
}

// ec2Snapshot takes the snapshot on first use and returns the same one to
// every later caller. The error is an *awsError with its diagnosis.
func (e *Env) ec2Snapshot(ctx context.Context) (*ec2Snapshot, error) {
	e.aws.mu.Lock()
	defer e.aws.mu.Unlock()
	if e.aws.taken {
		return e.aws.snap, e.aws.err
	}
	snap, err := e.takeEC2Snapshot(ctx)
	if err != nil && ctx.Err() != nil {
		// The caller gave up; a later caller with time left may succeed.
		return nil, err
	}
	e.aws.taken, e.aws.snap, e.aws.err = true, snap, err
	return snap, err
}

// awsClients returns the target's clients, built once per Env.
func (e *Env) awsClients(ctx context.Context) (*awsClients, error) {
	if e.aws.clients != nil {
		return e.aws.clients, nil
	}
	c, err := newAWSClients(ctx, e.Target.AWS, e.aws.opts)
	if err != nil {
		return nil, err
	}
	e.aws.clients = c
	return c, nil
}

// takeEC2Snapshot costs, after the role is assumed, two calls:
// DescribeInstances and DescribeSecurityGroups for the instance's VPC.
func (e *Env) takeEC2Snapshot(ctx context.Context) (*ec2Snapshot, error) {
	t := e.Target.AWS
	id := strings.TrimSpace(t.InstanceID)
	if id == "" {
		return nil, &awsError{Kind: KindInstanceIDMissing, Status: StatusFail,
			Summary: "No instance id is set.",
			Hint:    "Enter your instance's id (i-…) on the target page: it is in the EC2 console's Instances list."}
	}
	if !instanceIDPattern.MatchString(id) {
		return nil, &awsError{Kind: KindInstanceIDMalformed, Status: StatusFail,
			Summary:  fmt.Sprintf("%q is not an instance id.", id),
			Hint:     "An instance id looks like i-0123456789abcdef0: copy it from the EC2 console's Instances list, column “Instance ID”.",
			Evidence: []string{"instance id: " + id}}
	}
	c, err := e.awsClients(ctx)
	if err != nil {
		return nil, err
	}
	if c.viaRole {
		// Assume the role first and on its own, so that a refusal is
		// diagnosed as a trust-policy problem, not a permission one.
		if _, err := c.cfg.Credentials.Retrieve(ctx); err != nil {
			return nil, diagnoseAssumeRole(err, t, e.aws.opts)
		}
	}
	out, err := c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		return nil, diagnoseDescribe(err, t, c.viaRole)
	}
	var inst *ec2types.Instance
	for _, r := range out.Reservations {
		for i := range r.Instances {
			if aws.ToString(r.Instances[i].InstanceId) == id {
				inst = &r.Instances[i]
			}
		}
	}
	if inst == nil {
		return nil, diagnoseDescribe(&smithy.GenericAPIError{Code: "InvalidInstanceID.NotFound",
			Message: "the instance is not in DescribeInstances' answer"}, t, c.viaRole)
	}
	s := &ec2Snapshot{
		Region:     t.Region,
		InstanceID: id,
		Type:       string(inst.InstanceType),
		PublicIP:   aws.ToString(inst.PublicIpAddress),
		PublicDNS:  aws.ToString(inst.PublicDnsName),
		VPCID:      aws.ToString(inst.VpcId),
	}
	if inst.State != nil {
		s.State = string(inst.State.Name)
	}
	attached := map[string]bool{}
	for _, g := range inst.SecurityGroups {
		attached[aws.ToString(g.GroupId)] = true
	}
	for _, ni := range inst.NetworkInterfaces {
		for _, g := range ni.Groups {
			attached[aws.ToString(g.GroupId)] = true
		}
		if s.PublicIP == "" && ni.Association != nil {
			s.PublicIP = aws.ToString(ni.Association.PublicIp)
		}
		for _, a := range ni.Ipv6Addresses {
			s.IPv6 = append(s.IPv6, aws.ToString(a.Ipv6Address))
		}
	}
	if s.State == string(ec2types.InstanceStateNameTerminated) {
		return s, nil // no groups to look at; the checks say so
	}
	groups, err := describeGroups(ctx, c.ec2, s.VPCID, attached)
	if err != nil {
		return nil, diagnoseDescribe(err, t, c.viaRole)
	}
	for _, g := range groups {
		if attached[aws.ToString(g.GroupId)] {
			s.Attached = append(s.Attached, g)
		} else {
			s.Others = append(s.Others, g)
		}
	}
	return s, nil
}

// describeGroups reads every group of the VPC (or, without a VPC, just the
// attached ones), sorted by id.
func describeGroups(ctx context.Context, c *ec2.Client, vpcID string, attached map[string]bool) ([]ec2types.SecurityGroup, error) {
	in := &ec2.DescribeSecurityGroupsInput{}
	if vpcID != "" {
		in.Filters = []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpcID}}}
	} else {
		for id := range attached {
			in.GroupIds = append(in.GroupIds, id)
		}
	}
	var groups []ec2types.SecurityGroup
	for page := 0; page < maxGroupPages; page++ {
		out, err := c.DescribeSecurityGroups(ctx, in)
		if err != nil {
			return nil, err
		}
		groups = append(groups, out.SecurityGroups...)
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	sort.Slice(groups, func(i, j int) bool { return aws.ToString(groups[i].GroupId) < aws.ToString(groups[j].GroupId) })
	return groups, nil
}

// instancePublicIP is the address the app should answer on when the
// target has no AppURL: the instance's public IPv4. Its error is an
// *awsError; use resultFromError to turn it into a result.
func (e *Env) instancePublicIP(ctx context.Context) (string, error) {
	s, err := e.ec2Snapshot(ctx)
	if err != nil {
		return "", err
	}
	if s.State == string(ec2types.InstanceStateNameTerminated) {
		return "", terminatedError(s)
	}
	if s.PublicIP == "" {
		return "", &awsError{Kind: KindNoPublicIP, Status: StatusFail,
			Summary: fmt.Sprintf("Instance %s has no public IPv4 address (state: %s).", s.InstanceID, s.State),
			Hint: "A stopped instance has no public address: start it. If it is running, its subnet does not assign public " +
				"addresses: associate an Elastic IP, or launch it with “Auto-assign public IP” enabled.",
			Evidence: []string{"state: " + s.State}}
	}
	return s.PublicIP, nil
}

// terminatedError is the diagnosis of a terminated instance.
func terminatedError(s *ec2Snapshot) error {
	return &awsError{Kind: KindInstanceTerminated, Status: StatusFail,
		Summary: fmt.Sprintf("Instance %s is terminated.", s.InstanceID),
		Hint:    "Launch a new instance and enter its id on the target page."}
}
