package grader

import (
	"crypto/rand"
	_ "embed" // the CloudFormation template
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

//go:embed cfn/readonly-role.yaml
var readOnlyRoleTemplate []byte

// ReadOnlyRoleTemplate is the CloudFormation template (plain YAML, long
// form intrinsics) that creates a student's read-only role: ec2:Describe*
// only, trusting the course account with the student's external id.
// Parameters: CourseAccountId, ExternalId, RoleName; output: RoleArn.
func ReadOnlyRoleTemplate() []byte {
	return append([]byte(nil), readOnlyRoleTemplate...)
}

// DefaultRoleName and DefaultStackName are what the one-click setup
// creates unless told otherwise.
const (
	DefaultRoleName  = "WorkshopGraderReadOnly"
	DefaultStackName = "workshop-grader-role"
)

// externalIDPattern is what STS accepts as an external id.
var externalIDPattern = regexp.MustCompile(`^[\w+=,.@:/-]+$`)

// roleNamePattern is what IAM accepts as a role name.
var roleNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// accountIDPattern is a 12-digit AWS account id.
var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// NewExternalID returns a fresh random external id for one student: 32
// URL-safe characters (192 bits), valid as an sts:ExternalId.
func NewExternalID() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic("grader: no randomness for an external id: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// ValidExternalID says whether s can be used as an sts:ExternalId.
func ValidExternalID(s string) bool {
	return len(s) >= 2 && len(s) <= 1224 && externalIDPattern.MatchString(s)
}

// policyDocument is an IAM policy in the field order the console shows.
type policyDocument struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

type policyStatement struct {
	Sid       string                       `json:"Sid,omitempty"`
	Effect    string                       `json:"Effect"`
	Principal map[string]string            `json:"Principal,omitempty"`
	Action    any                          `json:"Action"`
	Resource  string                       `json:"Resource,omitempty"`
	Condition map[string]map[string]string `json:"Condition,omitempty"`
}

// String is the document as indented JSON, ready to paste.
func (d policyDocument) String() string {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		panic(err) // static types: cannot happen
	}
	return string(b)
}

// TrustPolicy is the role's trust policy: the course account may assume
// the role only when it sends the student's external id.
func TrustPolicy(courseAccountID, externalID string) string {
	return policyDocument{Version: "2012-10-17", Statement: []policyStatement{{
		Sid:       "CourseServerWithExternalId",
		Effect:    "Allow",
		Principal: map[string]string{"AWS": fmt.Sprintf("arn:aws:iam::%s:root", courseAccountID)},
		Action:    "sts:AssumeRole",
		Condition: map[string]map[string]string{"StringEquals": {"sts:ExternalId": externalID}},
	}}}.String()
}

// PermissionPolicy is the role's (or read-only user's) permission policy:
// ec2:Describe* and nothing else.
func PermissionPolicy() string {
	return policyDocument{Version: "2012-10-17", Statement: []policyStatement{{
		Sid:      "DescribeOnly",
		Effect:   "Allow",
		Action:   []string{"ec2:Describe*"},
		Resource: "*",
	}}}.String()
}

// RoleSetup is what the target page needs to offer the one-click role:
// the values filled into the template, the console link and the commands.
type RoleSetup struct {
	CourseAccountID string
	ExternalID      string
	RoleName        string // DefaultRoleName when empty
	StackName       string // DefaultStackName when empty
	Region          string // the console's region; us-east-1 when empty (IAM is global)
	// TemplateURL is where the console fetches ReadOnlyRoleTemplate from.
	// CloudFormation only fetches templates from Amazon S3, so the
	// instructor uploads the template to a bucket (the server offers it
	// for download too) and configures this URL.
	TemplateURL string
}

// Validate says whether the values are safe to put in a link and in shell
// commands.
func (s RoleSetup) Validate() error {
	switch {
	case !accountIDPattern.MatchString(s.CourseAccountID):
		return fmt.Errorf("grader: course account id %q is not 12 digits", s.CourseAccountID)
	case !ValidExternalID(s.ExternalID):
		return fmt.Errorf("grader: external id is not valid for STS")
	case !roleNamePattern.MatchString(s.roleName()):
		return fmt.Errorf("grader: role name %q is not valid for IAM", s.roleName())
	case s.TemplateURL != "" && !strings.HasPrefix(s.TemplateURL, "https://"):
		return fmt.Errorf("grader: template URL must be https")
	}
	return nil
}

func (s RoleSetup) roleName() string {
	if s.RoleName == "" {
		return DefaultRoleName
	}
	return s.RoleName
}

func (s RoleSetup) stackName() string {
	if s.StackName == "" {
		return DefaultStackName
	}
	return s.StackName
}

// QuickCreateURL is the CloudFormation console link that opens the stack
// creation form with every parameter filled in; the student only ticks
// "I acknowledge that AWS CloudFormation might create IAM resources with
// custom names" and presses Create stack.
func (s RoleSetup) QuickCreateURL() string {
	region := s.Region
	if region == "" {
		region = "us-east-1"
	}
	q := url.Values{}
	q.Set("templateURL", s.TemplateURL)
	q.Set("stackName", s.stackName())
	q.Set("param_CourseAccountId", s.CourseAccountID)
	q.Set("param_ExternalId", s.ExternalID)
	q.Set("param_RoleName", s.roleName())
	return "https://console.aws.amazon.com/cloudformation/home?region=" + url.QueryEscape(region) +
		"#/stacks/quickcreate?" + q.Encode()
}

// IAMCommands are the AWS CLI commands that create the same role from a
// terminal (AWS CloudShell or a configured aws CLI), ending by printing
// the role ARN to paste. Call Validate first.
func (s RoleSetup) IAMCommands() string {
	name := s.roleName()
	var b strings.Builder
	fmt.Fprintf(&b, "cat > workshop-trust.json <<'EOF'\n%s\nEOF\n\n", TrustPolicy(s.CourseAccountID, s.ExternalID))
	fmt.Fprintf(&b, "cat > workshop-describe.json <<'EOF'\n%s\nEOF\n\n", PermissionPolicy())
	fmt.Fprintf(&b, "aws iam create-role --role-name %s \\\n"+
		"  --description \"Lets the workshop course server describe EC2 instances\" \\\n"+
		"  --assume-role-policy-document file://workshop-trust.json\n\n", name)
	fmt.Fprintf(&b, "aws iam put-role-policy --role-name %s \\\n"+
		"  --policy-name ec2-describe-only \\\n"+
		"  --policy-document file://workshop-describe.json\n\n", name)
	fmt.Fprintf(&b, "aws iam get-role --role-name %s --query Role.Arn --output text\n", name)
	return b.String()
}
