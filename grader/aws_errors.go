package grader

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/aws/smithy-go"
)

// Kinds of AWS access failures. All but the instance-id ones leave the
// grader unable to decide, so they give StatusError.
const (
	KindAWSRegionMissing      = "aws-region-missing"
	KindAWSRegionInvalid      = "aws-region-invalid"
	KindAWSCredentialsMissing = "aws-credentials-missing"
	KindAWSServerCredentials  = "aws-server-credentials"
	KindAWSWrongKeys          = "aws-wrong-keys"
	KindAWSExpiredToken       = "aws-expired-token"
	KindAWSClockSkew          = "aws-clock-skew"
	KindAssumeRoleDenied      = "assume-role-denied"
	KindRoleARNInvalid        = "role-arn-invalid"
	KindDescribeDenied        = "describe-denied"
	KindRegionNotEnabled      = "region-not-enabled"
	KindEndpointUnreachable   = "aws-endpoint-unreachable"
	KindAWSTimeout            = "aws-timeout"
	KindAWSOther              = "aws-error"
	KindInstanceNotFound      = "instance-not-found"
	KindInstanceIDMalformed   = "instance-id-malformed"
	KindInstanceIDMissing     = "instance-id-missing"
	KindInstanceTerminated    = "instance-terminated"
	KindNoPublicIP            = "instance-no-public-ip"
)

// awsError is a diagnosed failure to read the student's account: what went
// wrong in words a student can act on. It never carries a secret.
type awsError struct {
	Kind     string
	Status   Status
	Summary  string
	Hint     string
	Evidence []string
	Err      error // the SDK's error, for logs; its text holds no secret
}

// Error implements error; the text is for logs, Summary for students.
func (e *awsError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s (%v)", e.Kind, e.Summary, e.Err)
	}
	return e.Kind + ": " + e.Summary
}

// Unwrap gives the SDK error.
func (e *awsError) Unwrap() error { return e.Err }

// apply writes the diagnosis into a check's result.
func (e *awsError) apply(r *Result) {
	r.Status, r.Kind, r.Summary, r.Hint = e.Status, e.Kind, e.Summary, e.Hint
	lines := append([]string(nil), e.Evidence...)
	if e.Err != nil {
		lines = append(lines, "AWS said: "+awsMessage(e.Err))
	}
	for _, l := range lines {
		if !slices.Contains(r.Evidence, l) {
			r.Evidence = append(r.Evidence, l)
		}
	}
}

// resultFromError turns any error of the AWS path into a result.
func resultFromError(err error, r *Result) {
	var ae *awsError
	if errors.As(err, &ae) {
		ae.apply(r)
		return
	}
	r.Status, r.Kind = StatusError, KindAWSOther
	r.Summary = "The grader could not read your AWS account."
	r.Evidence = append(r.Evidence, "error: "+err.Error())
}

// awsMessage is the most useful one-line text of an SDK error: the API's
// code and message when there is one.
func awsMessage(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode() + ": " + api.ErrorMessage()
	}
	return err.Error()
}

// diagnoseAssumeRole explains a failure of sts:AssumeRole into the
// student's role.
func diagnoseAssumeRole(err error, t AWSTarget, o AWSOptions) *awsError {
	if d := diagnoseTransport(err, t); d != nil {
		return d
	}
	principal := "the course's AWS account"
	if o.CourseAccountID != "" {
		principal = fmt.Sprintf("arn:aws:iam::%s:root", o.CourseAccountID)
	}
	e := &awsError{Status: StatusError, Err: err, Evidence: []string{"role: " + t.RoleARN}}
	switch apiCode(err) {
	case "AccessDenied", "AccessDeniedException":
		e.Kind = KindAssumeRoleDenied
		e.Summary = "Your role refused to be assumed by the course server."
		e.Hint = fmt.Sprintf("In IAM → Roles → %s → Trust relationships, check three things: "+
			"the Principal is %s; the Action is sts:AssumeRole; and the Condition is StringEquals "+
			"sts:ExternalId = %q (your external id, exactly, shown on the target page). "+
			"Also check that the role ARN you pasted is this role's ARN.",
			roleName(t.RoleARN), principal, t.ExternalID)
		e.Evidence = append(e.Evidence, "external id sent: "+t.ExternalID, "course principal: "+principal)
	case "ValidationError", "InvalidParameterValue", "MalformedPolicyDocument":
		e.Kind = KindRoleARNInvalid
		e.Summary = "The role ARN is not valid."
		e.Hint = "Paste the role's ARN as shown in IAM or in the stack's Outputs tab: arn:aws:iam::<your account id>:role/<role name>."
	case "RegionDisabledException":
		e.Kind = KindRegionNotEnabled
		e.Summary = "The course server's AWS region does not accept its requests."
		e.Hint = "This is a server setting, not your mistake: tell your instructor."
	case "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException", "UnrecognizedClientException":
		// The failing credentials are the server's own.
		e.Kind = KindAWSServerCredentials
		e.Summary = "The course server's own AWS credentials were refused."
		e.Hint = "This is a server setting, not your mistake: tell your instructor."
	default:
		e.Kind = KindAWSOther
		e.Summary = "The course server could not assume your role."
		e.Hint = "Use “Test connection” on the target page; if it keeps failing, show your instructor the message below."
	}
	return e
}

// diagnoseDescribe explains a failure of an EC2 Describe call.
func diagnoseDescribe(err error, t AWSTarget, viaRole bool) *awsError {
	if d := diagnoseTransport(err, t); d != nil {
		return d
	}
	e := &awsError{Status: StatusError, Err: err}
	if !viaRole && t.AccessKeyID != "" {
		e.Evidence = append(e.Evidence, "access key id ending in "+maskKeyID(t.AccessKeyID))
	}
	switch code := apiCode(err); code {
	case "AuthFailure", "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException", "InvalidAccessKeyId":
		e.Kind = KindAWSWrongKeys
		e.Summary = "AWS did not accept the access key."
		e.Hint = "Check that you pasted the access key id and the secret access key of the same key, without spaces, " +
			"and that the key is Active in IAM → Users → Security credentials. If unsure, create a new key and paste both parts."
		if viaRole {
			e.Summary = "AWS did not accept the credentials of the assumed role."
			e.Hint = "Try “Test connection” again in a minute; if it persists, tell your instructor."
		}
	case "ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired", "RequestExpired":
		// EC2 answers RequestExpired both for expired temporary
		// credentials and for a request signed with a wrong clock.
		e.Kind = KindAWSExpiredToken
		e.Summary = "The AWS credentials have expired."
		e.Hint = "Temporary credentials (from an SSO or console session, key ids starting with ASIA) expire: " +
			"use a read-only IAM user's long-term access key (AKIA…), or the role."
		if viaRole {
			e.Hint = "The role's session expired during the check; run the check again."
		}
	case "RequestTimeTooSkewed":
		e.Kind = KindAWSClockSkew
		e.Summary = "AWS refused the request's timestamp."
		e.Hint = "The course server's clock is off: tell your instructor."
	case "UnauthorizedOperation", "AccessDenied", "AccessDeniedException", "Client.UnauthorizedOperation":
		e.Kind = KindDescribeDenied
		e.Summary = "The credentials work but may not read EC2."
		who := "your read-only IAM user"
		if viaRole {
			who = "your role"
		}
		e.Hint = fmt.Sprintf("Attach to %s a permission policy that allows ec2:Describe* on Resource \"*\" "+
			"(the policy shown on the target page, or the AWS managed policy AmazonEC2ReadOnlyAccess).", who)
	case "InvalidInstanceID.NotFound":
		e.Status = StatusFail
		e.Kind = KindInstanceNotFound
		e.Summary = fmt.Sprintf("No instance %s in region %s.", t.InstanceID, t.Region)
		e.Hint = fmt.Sprintf("Check the instance id in the EC2 console (Instances list, column “Instance ID”), "+
			"and check the region: instances belong to one region, and the console's region selector (top right) "+
			"shows which one. Try the region where the console lists your instance instead of %s.", t.Region)
	case "InvalidInstanceID.Malformed":
		e.Status = StatusFail
		e.Kind = KindInstanceIDMalformed
		e.Summary = fmt.Sprintf("%q is not an instance id.", t.InstanceID)
		e.Hint = "An instance id looks like i-0123456789abcdef0: copy it from the EC2 console's Instances list."
	case "OptInRequired", "InvalidRegion":
		e.Kind = KindRegionNotEnabled
		e.Summary = fmt.Sprintf("Region %s is not enabled for this account.", t.Region)
		e.Hint = "Choose the region your instance runs in (top right of the EC2 console)."
	default:
		e.Kind = KindAWSOther
		e.Summary = "AWS refused to describe your instance."
		e.Hint = "Use “Test connection” on the target page; if it keeps failing, show your instructor the message below."
	}
	return e
}

// diagnoseTransport recognises failures that happen before AWS answers.
func diagnoseTransport(err error, t AWSTarget) *awsError {
	if apiCode(err) != "" {
		return nil
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &awsError{Kind: KindAWSTimeout, Status: StatusError, Err: err,
			Summary: "AWS did not answer in time.",
			Hint:    "Run the check again in a moment."}
	case errors.As(err, &dnsErr), errors.As(err, &opErr):
		return &awsError{Kind: KindEndpointUnreachable, Status: StatusError, Err: err,
			Summary: fmt.Sprintf("The AWS endpoint for region %q could not be reached.", t.Region),
			Hint: "Check the region's spelling (for example eu-west-1, not eu-west or Ireland). " +
				"If it is right, AWS or the server's network is having trouble: try again later."}
	}
	return nil
}

// apiCode is the AWS error code in err, or "".
func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// roleName is the last part of a role ARN, for hints.
func roleName(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 && i < len(arn)-1 {
		return arn[i+1:]
	}
	return "(your role)"
}
