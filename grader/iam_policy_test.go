package grader

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// actions returns a policy statement's Action as a list.
func actions(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			s, _ := x.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// dig walks nested maps by keys.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func TestReadOnlyRoleTemplate(t *testing.T) {
	src := ReadOnlyRoleTemplate()
	var node yaml.Node
	if err := yaml.Unmarshal(src, &node); err != nil {
		t.Fatalf("template is not YAML: %v", err)
	}
	// Plain YAML only: a short-form tag (!Ref, !Sub) would need a
	// CloudFormation-aware parser.
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
			t.Errorf("line %d: custom tag %s", n.Line, n.Tag)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&node)

	var doc map[string]any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	params, _ := doc["Parameters"].(map[string]any)
	for _, p := range []string{"CourseAccountId", "ExternalId", "RoleName"} {
		if params[p] == nil {
			t.Errorf("parameter %s missing", p)
		}
	}
	resources, _ := doc["Resources"].(map[string]any)
	if len(resources) != 1 {
		t.Fatalf("want exactly one resource, the role; got %d", len(resources))
	}
	role := resources["ReadOnlyRole"]
	if dig(role, "Type") != "AWS::IAM::Role" {
		t.Fatalf("ReadOnlyRole type = %v", dig(role, "Type"))
	}
	props := dig(role, "Properties").(map[string]any)
	for _, forbidden := range []string{"ManagedPolicyArns", "PermissionsBoundary"} {
		if props[forbidden] != nil {
			t.Errorf("the role must not have %s: managed policies could grant more than Describe", forbidden)
		}
	}

	// The permission policies: ec2:Describe* only, all Allow.
	policies, _ := props["Policies"].([]any)
	if len(policies) == 0 {
		t.Fatal("no inline policy")
	}
	var n int
	for _, p := range policies {
		for _, st := range dig(p, "PolicyDocument", "Statement").([]any) {
			if dig(st, "Effect") != "Allow" {
				continue
			}
			for _, a := range actions(dig(st, "Action")) {
				n++
				if !strings.HasPrefix(a, "ec2:Describe") {
					t.Errorf("permission action %q is not an ec2:Describe action", a)
				}
			}
			if dig(st, "NotAction") != nil {
				t.Errorf("NotAction would allow everything else")
			}
		}
	}
	if n == 0 {
		t.Error("the policy allows nothing")
	}

	// The trust policy: the course account, sts:AssumeRole, with the
	// external id as a condition.
	stmts := dig(props, "AssumeRolePolicyDocument", "Statement").([]any)
	if len(stmts) != 1 {
		t.Fatalf("trust statements: %d", len(stmts))
	}
	st := stmts[0]
	if got := actions(dig(st, "Action")); len(got) != 1 || got[0] != "sts:AssumeRole" {
		t.Errorf("trust action %v", got)
	}
	if sub, _ := dig(st, "Principal", "AWS", "Fn::Sub").(string); !strings.Contains(sub, ":iam::${CourseAccountId}:root") {
		t.Errorf("principal %v does not name the course account parameter", dig(st, "Principal"))
	}
	if ref := dig(st, "Condition", "StringEquals", "sts:ExternalId", "Ref"); ref != "ExternalId" {
		t.Errorf("external id condition = %v, want Ref ExternalId", dig(st, "Condition"))
	}
	if dig(props, "RoleName", "Ref") != "RoleName" {
		t.Errorf("RoleName not from its parameter")
	}
	if arn := dig(doc, "Outputs", "RoleArn", "Value", "Fn::GetAtt"); arn == nil {
		t.Errorf("no RoleArn output")
	}
	// Every ${X} and Ref names a parameter, a resource or a pseudo parameter.
	for _, m := range regexp.MustCompile(`\$\{([^}]+)\}|Ref: (\w+)`).FindAllStringSubmatch(string(src), -1) {
		name := m[1] + m[2]
		if params[name] == nil && resources[name] == nil && !strings.HasPrefix(name, "AWS::") {
			t.Errorf("reference to unknown %q", name)
		}
	}
}

func TestTrustAndPermissionPolicies(t *testing.T) {
	ext := NewExternalID()
	var trust struct {
		Version   string
		Statement []struct {
			Effect    string
			Principal map[string]string
			Action    string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(TrustPolicy("111122223333", ext)), &trust); err != nil {
		t.Fatal(err)
	}
	if trust.Version != "2012-10-17" || len(trust.Statement) != 1 {
		t.Fatalf("trust policy: %+v", trust)
	}
	s := trust.Statement[0]
	if s.Effect != "Allow" || s.Action != "sts:AssumeRole" || s.Principal["AWS"] != "arn:aws:iam::111122223333:root" ||
		s.Condition["StringEquals"]["sts:ExternalId"] != ext {
		t.Errorf("trust statement: %+v", s)
	}
	var perm struct {
		Statement []struct {
			Effect   string
			Action   []string
			Resource string
		}
	}
	if err := json.Unmarshal([]byte(PermissionPolicy()), &perm); err != nil {
		t.Fatal(err)
	}
	for _, st := range perm.Statement {
		for _, a := range st.Action {
			if !strings.HasPrefix(a, "ec2:Describe") {
				t.Errorf("permission %q", a)
			}
		}
	}
}

func TestNewExternalID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := NewExternalID()
		if len(id) < 20 || !ValidExternalID(id) || url.QueryEscape(id) != id {
			t.Fatalf("external id %q", id)
		}
		if seen[id] {
			t.Fatalf("repeated external id %q", id)
		}
		seen[id] = true
	}
}

func TestRoleSetup(t *testing.T) {
	s := RoleSetup{CourseAccountID: "111122223333", ExternalID: "abc_DEF-123456789012345", Region: "eu-west-1",
		TemplateURL: "https://course-bucket.s3.amazonaws.com/readonly-role.yaml"}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(s.QuickCreateURL())
	if err != nil {
		t.Fatal(err)
	}
	if u.Host != "console.aws.amazon.com" || u.Query().Get("region") != "eu-west-1" {
		t.Errorf("link %s", u)
	}
	route, query, _ := strings.Cut(u.Fragment, "?")
	if route != "/stacks/quickcreate" {
		t.Errorf("fragment route %q", route)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"templateURL": s.TemplateURL, "stackName": DefaultStackName, "param_ExternalId": s.ExternalID,
		"param_CourseAccountId": "111122223333", "param_RoleName": DefaultRoleName}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}

	cmds := s.IAMCommands()
	for _, w := range []string{"aws iam create-role --role-name WorkshopGraderReadOnly", "--assume-role-policy-document file://workshop-trust.json",
		"aws iam put-role-policy --role-name WorkshopGraderReadOnly", `"sts:ExternalId": "abc_DEF-123456789012345"`, `"ec2:Describe*"`,
		"<<'EOF'", "get-role"} {
		if !strings.Contains(cmds, w) {
			t.Errorf("commands lack %q:\n%s", w, cmds)
		}
	}

	bad := []RoleSetup{
		{CourseAccountID: "12345", ExternalID: s.ExternalID},
		{CourseAccountID: "111122223333", ExternalID: "x'; rm -rf ~; '"},
		{CourseAccountID: "111122223333", ExternalID: s.ExternalID, RoleName: "two words"},
		{CourseAccountID: "111122223333", ExternalID: s.ExternalID, TemplateURL: "http://example.com/t.yaml"},
	}
	for _, b := range bad {
		if b.Validate() == nil {
			t.Errorf("accepted %+v", b)
		}
	}
}
