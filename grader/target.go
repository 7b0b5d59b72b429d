package grader

import (
	"context"
	"net"
)

// Target is where one student's work lives: their Docker host, their AWS
// account and instance, and the address their app answers on.
type Target struct {
	Docker DockerTarget
	AWS    AWSTarget
	// AppURL overrides the app's address; empty means the instance's public
	// IP from DescribeInstances on port 8000.
	AppURL string
	// AllowPrivate lets the network guard reach private ranges (a cohort's
	// lab inside a private network, or tests).
	AllowPrivate bool
}

// DockerTarget says how to reach the student's Docker Engine API.
type DockerTarget struct {
	// Endpoint is tcp://HOST:2376 (TLS), or tcp:// / unix:// where the
	// server allows plain endpoints, or "agent" when Dial is set.
	Endpoint   string
	CACert     []byte // PEM
	ClientCert []byte // PEM
	ClientKey  []byte // PEM
	// Dial, when set, carries every Docker API connection (the agent's
	// tunnel); the network guard does not apply to it.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// AWSTarget says which instance to inspect and how to get read-only access.
type AWSTarget struct {
	Region     string
	InstanceID string
	// One of the two ways in: a role assumed through STS with ExternalID,
	// or a read-only IAM user's access key.
	RoleARN         string
	ExternalID      string
	AccessKeyID     string
	SecretAccessKey string
	// Plan is the account's free-tier plan, "legacy" or "credits", as the
	// student declared it (the EC2 API cannot tell).
	Plan string
	// Endpoint overrides the AWS endpoint (moto in tests); empty in production.
	Endpoint string
}

// FreeTierAdvisor says whether an instance type is free-tier eligible under
// a plan and what it costs an hour; the server passes the freetier
// package's table in, so the grader keeps no prices of its own.
type FreeTierAdvisor interface {
	Advise(instanceType, plan string) (eligible bool, hourlyUSD float64, known bool)
}

// Env is what the checks of one step share: the target, the network guard
// and one lazily taken snapshot of the Docker host and of EC2, so that all
// checks of a step cost one round of API calls.
type Env struct {
	Target Target
	Guard  *Guard
	// FreeTier answers the instance-type check; nil makes it report error.
	FreeTier FreeTierAdvisor
	docker   dockerCache // docker.go
	aws      awsCache    // ec2.go
}
