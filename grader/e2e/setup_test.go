package e2e_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/coursekit/workshop/content"
	"github.com/coursekit/workshop/grader"
	"github.com/coursekit/workshop/grader/awstest"
)

// earlierSession leaves what the stop-old-container page expects to find:
// yesterday's build of the app, tagged django-app, running detached on
// port 8000. Yesterday's page said something else, so today's build has
// other layers. It returns the container's id.
func earlierSession(t *testing.T, s *student, home string) string {
	t.Helper()
	labFS, err := content.LabFS(content.DefaultFS())
	must(t, err)
	dir := filepath.Join(home, "yesterday")
	must(t, os.CopyFS(dir, labFS))
	app := filepath.Join(dir, "django-app")
	tpl := filepath.Join(app, "hello", "templates", "hello", "index.html")
	b, err := os.ReadFile(tpl)
	must(t, err)
	must(t, os.WriteFile(tpl, append(b, []byte("\n<!-- yesterday's build -->\n")...), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := dockerIn(ctx, app, "build", "-t", "django-app", ".")
	s.note("(yesterday) docker build -t django-app .", out, err)
	must(t, err)
	id, err := docker("run", "-d", "-p", "8000:8000", "django-app")
	s.note("(yesterday) docker run -d -p 8000:8000 django-app", id, err)
	must(t, err)
	return id
}

// studentInstance creates, in moto, the instance of the open-security-group
// page after the student followed it: a t3.micro (free on the credit plan
// the student declares) whose group lets TCP 8000 in from "My IP" and from
// the course server's address (the page's two rules), and SSH from "My IP"
// only. It returns the AWS half of the student's target.
func studentInstance(t *testing.T, m *awstest.Moto, s *student) grader.AWSTarget {
	t.Helper()
	const region = "us-east-1"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := ec2.NewFromConfig(m.Config(region, "AKIDSETUPSETUPSETUP1", "setup-secret"))
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.80.0.0/16")})
	must(t, err)
	subnet, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.80.1.0/24")})
	must(t, err)
	_, err = c.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: subnet.Subnet.SubnetId,
		MapPublicIpOnLaunch: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}})
	must(t, err)
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("launch-wizard-1"),
		Description: aws.String("launch-wizard-1"), VpcId: vpc.Vpc.VpcId})
	must(t, err)
	tcp := func(port int32, cidr, desc string) ec2types.IpPermission {
		return ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String(cidr), Description: aws.String(desc)}}}
	}
	// Step 5 (My IP), step 6 (the course server), and SSH from My IP.
	rules := []ec2types.IpPermission{
		tcp(8000, studentCIDR, "Django lab from my laptop"),
		tcp(8000, serverCIDR, "Course server"),
		tcp(22, studentCIDR, "SSH from my laptop"),
	}
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: rules})
	must(t, err)
	for _, r := range rules {
		t.Logf("inbound rule: TCP %d from %s (%s)", aws.ToInt32(r.FromPort), aws.ToString(r.IpRanges[0].CidrIp), aws.ToString(r.IpRanges[0].Description))
	}
	imgs, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{
		Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"amzn-ami-hvm-*"}}}})
	must(t, err)
	if len(imgs.Images) == 0 {
		t.Fatal("moto lists no amzn-ami-hvm image")
	}
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: imgs.Images[0].ImageId, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: ec2types.InstanceTypeT3Micro, SubnetId: subnet.Subnet.SubnetId, SecurityGroupIds: []string{aws.ToString(sg.GroupId)}})
	must(t, err)
	id := aws.ToString(run.Instances[0].InstanceId)
	t.Logf("instance %s (t3.micro) in %s, security group %s", id, region, aws.ToString(sg.GroupId))
	return grader.AWSTarget{Region: region, InstanceID: id, Plan: "credits",
		AccessKeyID: "AKIDSTUDENTSTUDENT01", SecretAccessKey: "student-secret", Endpoint: m.URL}
}

// removePageObjects removes what the course's commands create under the
// pages' fixed names, and the untagged images the test's builds left
// (build stages, yesterday's build). Before the test it clears what a
// failed run may have left.
func removePageObjects(t *testing.T, built map[string]bool) {
	var gone []string
	for _, c := range pageContainers {
		if _, err := docker("container", "inspect", c); err != nil {
			continue
		}
		if _, err := docker("rm", "-f", c); err == nil {
			gone = append(gone, c)
		}
	}
	// Containers a page made without a name (all --rm or removed, unless
	// the test stopped half-way).
	for _, img := range append([]string{"django-app"}, pageImages...) {
		if ids, err := docker("ps", "-aq", "--filter", "ancestor="+img); err == nil && ids != "" {
			for _, id := range strings.Fields(ids) {
				if _, err := docker("rm", "-f", id); err == nil {
					gone = append(gone, id)
				}
			}
		}
	}
	if _, err := docker("network", "rm", "workshop-net"); err == nil {
		gone = append(gone, "network workshop-net")
	}
	for _, img := range pageImages {
		if _, err := docker("rmi", img); err == nil {
			gone = append(gone, img)
		}
	}
	for id := range built {
		tags, err := docker("image", "inspect", "--format", "{{len .RepoTags}}", id)
		if err == nil && tags == "0" {
			if _, err := docker("rmi", id); err == nil {
				gone = append(gone, id)
			}
		}
	}
	if len(gone) > 0 {
		t.Logf("removed: %s", strings.Join(gone, ", "))
	}
}

// dockerIn runs docker in a folder.
func dockerIn(ctx context.Context, dir string, args ...string) (string, error) {
	c := exec.CommandContext(ctx, "docker", args...)
	c.Dir = dir
	out, err := c.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}
