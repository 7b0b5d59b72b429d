package grader

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
)

// RoleSessionName names the grader's sessions in the student's CloudTrail,
// so a student can see exactly what the course server did.
const RoleSessionName = "workshop-grader"

// AWSOptions is the server-side configuration of the AWS checks; it is the
// same for every student. Pass it to Env.ConfigureAWS.
type AWSOptions struct {
	// ServerCIDRs are the addresses the course server's traffic leaves from
	// (its public egress IPs, one per replica or NAT). The port-8000 check
	// wants a rule whose source includes all of them; empty means any
	// source counts (the result says so).
	ServerCIDRs []netip.Prefix
	// CourseAccountID is the AWS account that assumes students' roles; it
	// only appears in hints.
	CourseAccountID string
	// ServerConfig holds the server's own credentials, used only to call
	// sts:AssumeRole into a student's role. Nil loads the default chain
	// (environment, shared files, instance role) on first use.
	ServerConfig *aws.Config
	// UseDefaultChain lets a target without keys or role use ServerConfig
	// directly: for `workshop check` on a student's own machine only. A
	// server must leave it false, or a student could have the grader
	// describe the course's own account.
	UseDefaultChain bool
	// APIOptions are added to every client's middleware stack (tests use
	// them to watch requests).
	APIOptions []func(*middleware.Stack) error
}

// regionPattern is the shape of region codes: us-east-1, eu-central-2,
// us-gov-west-1, ap-southeast-5.
var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)

// awsClients are the clients of one target, built once per step run.
type awsClients struct {
	cfg aws.Config
	ec2 *ec2.Client
	sts *sts.Client // with the target's credentials: the assumed role or the user's keys
	// viaRole says the credentials come from sts:AssumeRole, so that a
	// credential failure is diagnosed as a trust-policy problem.
	viaRole bool
}

// sharedAWSHTTPClient is shared by all targets, so that step runs reuse
// connections to AWS's endpoints.
var sharedAWSHTTPClient = awsHTTPClient()

// awsHTTPClient keeps AWS calls short: a step's deadline is seconds, and an
// AWS endpoint that does not answer in that time will not answer at all.
func awsHTTPClient() aws.HTTPClient {
	return awshttp.NewBuildableClient().
		WithTimeout(20 * time.Second).
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = 5 * time.Second }).
		WithTransportOptions(func(tr *http.Transport) {
			tr.TLSHandshakeTimeout = 5 * time.Second
			tr.ResponseHeaderTimeout = 15 * time.Second
		})
}

// newAWSClients builds the EC2 and STS clients for t. It makes no network
// call; credential problems appear on the first request.
func newAWSClients(ctx context.Context, t AWSTarget, o AWSOptions) (*awsClients, error) {
	region := strings.TrimSpace(t.Region)
	if region == "" {
		return nil, &awsError{Kind: KindAWSRegionMissing, Status: StatusError,
			Summary: "No AWS region is set for your instance.",
			Hint:    "Enter the region your instance runs in (for example us-east-1), as shown at the top right of the EC2 console."}
	}
	if !regionPattern.MatchString(region) {
		return nil, &awsError{Kind: KindAWSRegionInvalid, Status: StatusError,
			Summary:  fmt.Sprintf("%q is not an AWS region code.", region),
			Hint:     "Enter the region's code, for example us-east-1 or eu-west-1, not its name (N. Virginia, Ireland): the EC2 console shows both at the top right.",
			Evidence: []string{"region: " + region}}
	}
	apiOptions := append([]func(*middleware.Stack) error{readOnlyMiddleware}, o.APIOptions...)
	cfg := aws.Config{
		Region:     region,
		HTTPClient: sharedAWSHTTPClient,
		Retryer: func() aws.Retryer {
			return retry.AddWithMaxAttempts(retry.NewStandard(), 2)
		},
		APIOptions: apiOptions,
	}
	if t.Endpoint != "" {
		cfg.BaseEndpoint = aws.String(t.Endpoint)
	}
	c := &awsClients{}
	switch {
	case t.RoleARN != "":
		base, err := serverConfig(ctx, o)
		if err != nil {
			return nil, err
		}
		// AssumeRole goes to the server's own region (us-east-1 by
		// default), which its account surely has enabled; the session
		// it returns is valid in every region of the student's account.
		if base.Region == "" {
			base.Region = "us-east-1"
		}
		base.HTTPClient = cfg.HTTPClient
		base.Retryer = cfg.Retryer
		base.APIOptions = apiOptions
		base.BaseEndpoint = cfg.BaseEndpoint
		assumer := sts.NewFromConfig(base)
		ext := t.ExternalID
		provider := stscreds.NewAssumeRoleProvider(assumer, t.RoleARN, func(p *stscreds.AssumeRoleOptions) {
			p.RoleSessionName = RoleSessionName
			p.Duration = 15 * time.Minute
			if ext != "" {
				p.ExternalID = aws.String(ext)
			}
		})
		cfg.Credentials = aws.NewCredentialsCache(provider)
		c.viaRole = true
	case t.AccessKeyID != "" || t.SecretAccessKey != "":
		if t.AccessKeyID == "" || t.SecretAccessKey == "" {
			return nil, &awsError{Kind: KindAWSCredentialsMissing, Status: StatusError,
				Summary: "Only half of the access key is set.",
				Hint:    "Enter both the access key id (AKIA…) and its secret access key of your read-only IAM user, or use the role instead."}
		}
		cfg.Credentials = aws.NewCredentialsCache(
			credentials.NewStaticCredentialsProvider(strings.TrimSpace(t.AccessKeyID), strings.TrimSpace(t.SecretAccessKey), ""))
	case o.UseDefaultChain:
		base, err := serverConfig(ctx, o)
		if err != nil {
			return nil, err
		}
		cfg.Credentials = base.Credentials
	default:
		return nil, &awsError{Kind: KindAWSCredentialsMissing, Status: StatusError,
			Summary: "No AWS access is set up for your account.",
			Hint:    "On the target page, create the read-only role (one click) and paste its ARN, or enter the access key of a read-only IAM user."}
	}
	c.cfg = cfg
	c.ec2 = ec2.NewFromConfig(cfg)
	c.sts = sts.NewFromConfig(cfg)
	return c, nil
}

// serverConfig returns the server's own AWS configuration.
func serverConfig(ctx context.Context, o AWSOptions) (aws.Config, error) {
	if o.ServerConfig != nil {
		return o.ServerConfig.Copy(), nil
	}
	defaultServerConfig.mu.Lock()
	defer defaultServerConfig.mu.Unlock()
	if defaultServerConfig.cfg != nil {
		return defaultServerConfig.cfg.Copy(), nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, &awsError{Kind: KindAWSServerCredentials, Status: StatusError,
			Summary: "The course server has no AWS credentials of its own to assume your role with.",
			Hint:    "This is a server setting, not your mistake: tell your instructor.",
			Err:     err}
	}
	// One credential cache for the process: with an instance role, a
	// fresh config per step would ask the metadata service every time.
	defaultServerConfig.cfg = &cfg
	return cfg.Copy(), nil
}

// defaultServerConfig is the server's own configuration from the default
// chain, loaded once per process when AWSOptions.ServerConfig is nil. A
// failed load is not kept, so fixing the environment needs no restart.
var defaultServerConfig struct {
	mu  sync.Mutex
	cfg *aws.Config
}

// allowedOperations are the only API operations the grader may send:
// reading EC2, and the two STS calls that establish who we are.
var allowedOperations = map[string]bool{
	"AssumeRole":        true,
	"GetCallerIdentity": true,
}

// readOnlyMiddleware refuses, before anything is signed or sent, every
// operation that is not a Describe call or one of allowedOperations: the
// course promises students that grading never changes their account.
func readOnlyMiddleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("WorkshopReadOnly",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			op := awsmiddleware.GetOperationName(ctx)
			if !strings.HasPrefix(op, "Describe") && !allowedOperations[op] {
				return middleware.InitializeOutput{}, middleware.Metadata{},
					fmt.Errorf("grader: refusing AWS operation %s %s: the grader only reads",
						awsmiddleware.GetServiceID(ctx), op)
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

// maskKeyID shows only the end of an access key id, so a page can say
// which key was used without displaying it.
func maskKeyID(id string) string {
	id = strings.TrimSpace(id)
	if len(id) <= 4 {
		return "…"
	}
	return "…" + id[len(id)-4:]
}
