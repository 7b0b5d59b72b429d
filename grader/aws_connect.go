package grader

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestAWSConnection backs the target page's "Test connection" button: it
// says who the grader is in the student's account (the assumed role's ARN
// when a role is used) and what it sees of the instance. The result has
// CheckID "aws-connection"; Evidence holds one fact a line.
func TestAWSConnection(ctx context.Context, env *Env) (r Result) {
	r = Result{CheckID: "aws-connection", Title: "Connection to your AWS account", Started: time.Now()}
	defer func() { r.Duration = time.Since(r.Started) }()
	t := env.Target.AWS
	env.aws.mu.Lock()
	c, err := env.awsClients(ctx)
	env.aws.mu.Unlock()
	if err != nil {
		resultFromError(err, &r)
		return r
	}
	r.Evidence = append(r.Evidence, "region: "+t.Region)
	switch {
	case c.viaRole:
		r.Evidence = append(r.Evidence, "role: "+t.RoleARN, "external id: "+t.ExternalID)
		if _, err := c.cfg.Credentials.Retrieve(ctx); err != nil {
			diagnoseAssumeRole(err, t, env.aws.opts).apply(&r)
			return r
		}
		r.Evidence = append(r.Evidence, "sts:AssumeRole: accepted")
	case t.AccessKeyID != "":
		r.Evidence = append(r.Evidence, "access key id ending in "+maskKeyID(t.AccessKeyID))
	}
	id, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		diagnoseDescribe(err, t, c.viaRole).apply(&r)
		return r
	}
	r.Evidence = append(r.Evidence,
		"signed in as: "+aws.ToString(id.Arn),
		"account: "+aws.ToString(id.Account))
	s, err := env.ec2Snapshot(ctx)
	if err != nil {
		resultFromError(err, &r)
		return r
	}
	r.Evidence = append(r.Evidence, fmt.Sprintf("instance %s: %s, %s", s.InstanceID, orDash(s.State), orDash(s.Type)))
	r.Evidence = append(r.Evidence, "public IPv4: "+orDash(s.PublicIP), "public DNS: "+orDash(s.PublicDNS))
	if len(s.IPv6) > 0 {
		r.Evidence = append(r.Evidence, "IPv6: "+strings.Join(s.IPv6, ", "))
	}
	r.Evidence = append(r.Evidence, attachedLine(s))
	r.Status = StatusPass
	r.Summary = fmt.Sprintf("Connected: the grader can read instance %s (%s).", s.InstanceID, orDash(s.State))
	if s.State != "running" {
		r.Status = StatusWarn
		r.Summary = fmt.Sprintf("Connected, but instance %s is %s.", s.InstanceID, orDash(s.State))
		r.Hint = "Start the instance before running the checks that reach your app."
	}
	return r
}

// testAWS is TestAWSConnection as lines for the server's combined
// connection report: the summary, what was seen, and the hint.
func testAWS(ctx context.Context, env *Env) []string {
	r := TestAWSConnection(ctx, env)
	lines := append([]string{r.Summary}, r.Evidence...)
	if r.Hint != "" {
		lines = append(lines, "What to do: "+r.Hint)
	}
	return lines
}

// orDash shows an empty value as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
