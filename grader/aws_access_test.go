package grader

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/coursekit/workshop/grader/awstest"
	"github.com/coursekit/workshop/internal/testenv"
)

// newRecorder puts a recording proxy in front of backend.
func newRecorder(t *testing.T, backend string) *awstest.Recorder {
	t.Helper()
	rec, err := awstest.NewRecorder(backend, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rec.Close)
	return rec
}

// cannedAWS answers every request with one recorded AWS error response.
func cannedAWS(t *testing.T, status int, body string) *awstest.Recorder {
	t.Helper()
	rec, err := awstest.NewRecorder("", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rec.Close)
	return rec
}

// stsAccessDenied is STS's answer when a role's trust policy does not let
// the caller in (for example a wrong or missing external id).
const stsAccessDenied = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>Sender</Type>
    <Code>AccessDenied</Code>
    <Message>User: arn:aws:iam::111122223333:user/workshop-server is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/WorkshopGraderReadOnly</Message>
  </Error>
  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
</ErrorResponse>`

// ec2Error is EC2's error envelope.
func ec2Error(code, msg string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>` + code + `</Code><Message>` + msg + `</Message></Error></Errors><RequestID>a1b2c3d4-5678-90ab-cdef-EXAMPLE11111</RequestID></Response>`
}

// roleEnv reaches instance id through a role assumed from the server's
// own (moto) credentials.
func roleEnv(m *awstest.Moto, endpoint, id, externalID string) *Env {
	server := m.Config(testRegion, "AKIDSERVERSERVER0001", "server-secret")
	env := &Env{Target: Target{AWS: AWSTarget{Region: testRegion, InstanceID: id, Plan: "credits",
		RoleARN:    "arn:aws:iam::" + awstest.AccountID + ":role/WorkshopGraderReadOnly",
		ExternalID: externalID, Endpoint: endpoint}}, FreeTier: testAdvisor{}}
	env.ConfigureAWS(AWSOptions{ServerConfig: &server, CourseAccountID: "111122223333"})
	return env
}

func TestAssumeRoleSendsExternalID(t *testing.T) {
	m := sharedMoto(t)
	id := fixture{Ingress: []ec2types.IpPermission{rule("tcp", 8000, 8000, "0.0.0.0/0")}}.create(t, setupEC2(m, "", testRegion))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ext := NewExternalID()
	// The role exists in moto with the trust policy the target page shows;
	// moto does not evaluate it, so what is checked is the request itself.
	setup := iamQuery{cfg: m.Config(testRegion, "AKIDSETUPSETUPSETUP1", "setup-secret")}
	_, err := setup.call(ctx, "CreateRole", "RoleName", "WorkshopGraderReadOnly",
		"AssumeRolePolicyDocument", TrustPolicy("111122223333", ext))
	if err != nil && !strings.Contains(err.Error(), "EntityAlreadyExists") {
		t.Fatal(err)
	}
	rec := newRecorder(t, m.URL)
	env := roleEnv(m, rec.URL, id, ext)
	r := TestAWSConnection(ctx, env)
	if r.Status != StatusPass {
		t.Fatalf("test connection: %s/%s %s %q", r.Status, r.Kind, r.Summary, r.Evidence)
	}
	ev := strings.Join(r.Evidence, "\n")
	for _, want := range []string{"assumed-role/WorkshopGraderReadOnly/" + RoleSessionName, "instance " + id + ": running, t3.micro", "public IPv4: ", "launch-wizard"} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q:\n%s", want, ev)
		}
	}
	var assumed int
	for _, req := range rec.Requests() {
		if req.Action != "AssumeRole" {
			continue
		}
		assumed++
		if got := req.Form.Get("ExternalId"); got != ext {
			t.Errorf("AssumeRole ExternalId = %q, want %q", got, ext)
		}
		if got := req.Form.Get("RoleSessionName"); got != RoleSessionName {
			t.Errorf("RoleSessionName = %q", got)
		}
	}
	if assumed != 1 {
		t.Errorf("AssumeRole sent %d times, want once", assumed)
	}
	if res := runCheck(t, SecurityGroupAllowsPort{}, env); res.Status != StatusPass {
		t.Errorf("through the role: %s/%s %s", res.Status, res.Kind, res.Summary)
	}
}

func TestAssumeRoleDenied(t *testing.T) {
	rec := cannedAWS(t, http.StatusForbidden, stsAccessDenied)
	m := &awstest.Moto{URL: rec.URL}
	env := roleEnv(m, rec.URL, "i-0123456789abcdef0", "x-Ext_ID-1234567890abcdef")
	for _, c := range append(awsChecks(), nil) {
		var r Result
		if c == nil {
			r = TestAWSConnection(context.Background(), env)
		} else {
			r = runCheck(t, c, env)
		}
		if r.Status != StatusError || r.Kind != KindAssumeRoleDenied {
			t.Fatalf("%s: got %s/%s %s", r.CheckID, r.Status, r.Kind, r.Summary)
		}
		for _, want := range []string{`"x-Ext_ID-1234567890abcdef"`, "arn:aws:iam::111122223333:root", "sts:ExternalId", "WorkshopGraderReadOnly"} {
			if !strings.Contains(r.Hint, want) {
				t.Errorf("%s: hint lacks %q: %s", r.CheckID, want, r.Hint)
			}
		}
	}
	for _, req := range rec.Requests() {
		if req.Action != "AssumeRole" {
			t.Errorf("after a refused AssumeRole the grader sent %s", req.Action)
		}
	}
}

func TestRecordedCredentialErrors(t *testing.T) {
	tests := []struct {
		code, msg string
		kind      string
		hint      string
	}{
		{"RequestExpired", "Request has expired.", KindAWSExpiredToken, "long-term access key"},
		{"ExpiredToken", "The security token included in the request is expired", KindAWSExpiredToken, "long-term access key"},
		{"AuthFailure", "AWS was not able to validate the provided access credentials", KindAWSWrongKeys, "same key"},
		{"UnauthorizedOperation", "You are not authorized to perform this operation.", KindDescribeDenied, "ec2:Describe*"},
		{"OptInRequired", "You are not subscribed to this service.", KindRegionNotEnabled, "region"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			rec := cannedAWS(t, http.StatusBadRequest, ec2Error(tt.code, tt.msg))
			env := keyEnv(&awstest.Moto{URL: rec.URL}, "i-0123456789abcdef0")
			r := runCheck(t, SecurityGroupAllowsPort{}, env)
			if r.Status != StatusError || r.Kind != tt.kind || !strings.Contains(r.Hint, tt.hint) {
				t.Fatalf("got %s/%s hint %q, want error/%s with %q", r.Status, r.Kind, r.Hint, tt.kind, tt.hint)
			}
			ev := strings.Join(r.Evidence, "\n")
			if strings.Contains(ev, "student-secret") || !strings.Contains(ev, "…NT01") || !strings.Contains(ev, tt.code) {
				t.Errorf("evidence: %s", ev)
			}
		})
	}
}

func TestInstanceAndRegionErrors(t *testing.T) {
	m := sharedMoto(t)
	id := fixture{}.create(t, setupEC2(m, "", testRegion))
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := "http://" + closed.Addr().String()
	closed.Close()
	tests := []struct {
		name   string
		edit   func(*AWSTarget)
		status Status
		kind   string
		hint   string
	}{
		{"no such instance", func(a *AWSTarget) { a.InstanceID = "i-0123456789abcdef0" }, StatusFail, KindInstanceNotFound, "region"},
		{"wrong region", func(a *AWSTarget) { a.Region = "eu-west-1" }, StatusFail, KindInstanceNotFound, "instead of eu-west-1"},
		{"malformed instance id", func(a *AWSTarget) { a.InstanceID = "i-bogus" }, StatusFail, KindInstanceIDMalformed, "i-0123456789abcdef0"},
		{"no instance id", func(a *AWSTarget) { a.InstanceID = "" }, StatusFail, KindInstanceIDMissing, "i-"},
		{"region name instead of code", func(a *AWSTarget) { a.Region = "Ireland" }, StatusError, KindAWSRegionInvalid, "eu-west-1"},
		{"truncated region", func(a *AWSTarget) { a.Region = "eu-west" }, StatusError, KindAWSRegionInvalid, "eu-west-1"},
		{"no region", func(a *AWSTarget) { a.Region = "" }, StatusError, KindAWSRegionMissing, "us-east-1"},
		{"no credentials", func(a *AWSTarget) { a.AccessKeyID, a.SecretAccessKey = "", "" }, StatusError, KindAWSCredentialsMissing, "role"},
		{"half a key", func(a *AWSTarget) { a.SecretAccessKey = "" }, StatusError, KindAWSCredentialsMissing, "both"},
		{"endpoint unreachable", func(a *AWSTarget) { a.Endpoint = deadAddr }, StatusError, KindEndpointUnreachable, "spelling"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := keyEnv(m, id)
			tt.edit(&env.Target.AWS)
			r := runCheck(t, SecurityGroupNoRiskyRules{}, env)
			if r.Status != tt.status || r.Kind != tt.kind || !strings.Contains(r.Hint, tt.hint) {
				t.Fatalf("got %s/%s %q hint %q, want %s/%s with %q", r.Status, r.Kind, r.Summary, r.Hint, tt.status, tt.kind, tt.hint)
			}
		})
	}
}

// TestMotoIdentityPolicies runs against a moto that checks access keys and
// IAM policies: wrong keys, a wrong secret, and a user without
// ec2:Describe* are each diagnosed; the read-only user passes.
func TestMotoIdentityPolicies(t *testing.T) {
	// Three unauthenticated calls create an administrator; the rest of
	// the setup runs with its key.
	m, err := awstest.Start("INITIAL_NO_AUTH_ACTION_COUNT=3")
	testenv.Require(t, "moto", err)
	t.Cleanup(m.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	newUser := func(c iamQuery, name, policy string) (string, string) {
		t.Helper()
		if _, err := c.call(ctx, "CreateUser", "UserName", name); err != nil {
			t.Fatal(err)
		}
		if _, err := c.call(ctx, "PutUserPolicy", "UserName", name, "PolicyName", "p", "PolicyDocument", policy); err != nil {
			t.Fatal(err)
		}
		body, err := c.call(ctx, "CreateAccessKey", "UserName", name)
		if err != nil {
			t.Fatal(err)
		}
		return xmlField(body, "AccessKeyId"), xmlField(body, "SecretAccessKey")
	}
	anon := iamQuery{cfg: m.Config(testRegion, "AKIDANONYMOUS0000001", "x")}
	adminID, adminSecret := newUser(anon, "admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	admin := iamQuery{cfg: m.Config(testRegion, adminID, adminSecret)}
	readerID, readerSecret := newUser(admin, "reader", PermissionPolicy())
	s3only := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}`
	nobodyID, nobodySecret := newUser(admin, "nobody", s3only)
	ec2c := ec2.NewFromConfig(m.Config(testRegion, adminID, adminSecret))
	id := fixture{Ingress: []ec2types.IpPermission{rule("tcp", 8000, 8000, "0.0.0.0/0")}}.create(t, ec2c)

	tests := []struct {
		name, keyID, secret string
		status              Status
		kind                string
	}{
		{"read-only user", readerID, readerSecret, StatusPass, KindPortAllowed},
		{"unknown key", "AKIAUNKNOWNUNKNOWN12", "nope", StatusError, KindAWSWrongKeys},
		{"wrong secret", readerID, readerSecret + "x", StatusError, KindAWSWrongKeys},
		{"no ec2:Describe*", nobodyID, nobodySecret, StatusError, KindDescribeDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := keyEnv(m, id)
			env.Target.AWS.AccessKeyID, env.Target.AWS.SecretAccessKey = tt.keyID, tt.secret
			r := runCheck(t, SecurityGroupAllowsPort{}, env)
			if r.Status != tt.status || r.Kind != tt.kind {
				t.Fatalf("got %s/%s %s %q", r.Status, r.Kind, r.Summary, r.Evidence)
			}
			if strings.Contains(strings.Join(r.Evidence, " ")+r.Summary+r.Hint, tt.secret) {
				t.Errorf("the secret appears in the result")
			}
			c := TestAWSConnection(ctx, keyEnvWith(env))
			if (c.Status == StatusPass) != (tt.status == StatusPass) {
				t.Errorf("test connection: %s/%s %s", c.Status, c.Kind, c.Summary)
			}
		})
	}
}

// keyEnvWith is a fresh Env (no snapshot yet) for the same target.
func keyEnvWith(env *Env) *Env {
	fresh := &Env{Target: env.Target, FreeTier: env.FreeTier}
	fresh.ConfigureAWS(env.aws.opts)
	return fresh
}

// TestDefaultChain: `workshop check` on a student's machine uses the AWS
// default credential chain; a server never does (see "no credentials").
func TestDefaultChain(t *testing.T) {
	m := sharedMoto(t)
	id := fixture{Ingress: []ec2types.IpPermission{rule("tcp", 8000, 8000, "0.0.0.0/0")}}.create(t, setupEC2(m, "", testRegion))
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDDEFAULTCHAIN0001")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "default-chain-secret")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	env := &Env{Target: Target{AWS: AWSTarget{Region: testRegion, InstanceID: id, Endpoint: m.URL}}, FreeTier: testAdvisor{}}
	env.ConfigureAWS(AWSOptions{UseDefaultChain: true})
	if r := runCheck(t, SecurityGroupAllowsPort{}, env); r.Status != StatusPass {
		t.Fatalf("got %s/%s %s", r.Status, r.Kind, r.Summary)
	}
}
