package web

import "time"

// TargetPage is the student's "My setup" page: where their Docker host
// and EC2 instance are and how the course may read them.
type TargetPage struct {
	Page
	Form   TargetForm
	Errors map[string]string
	Saved  bool
	// Secrets are never shown again, only their last characters.
	DockerKeyHint string
	AWSSecretHint string
	HasDockerKey  bool
	HasAWSSecret  bool
	AllowPlain    bool
	Report        *ConnectionReport
	// The read-only role, filled in for this student.
	ExternalID       string
	CourseAccountID  string
	TrustPolicy      string
	PermissionPolicy string
	QuickCreateURL   string
	IAMCommands      string
	TemplateURL      string
	ServerEgress     []string
	// The agent: the recommended way in (no open port, no certificates).
	Agent AgentView
}

// TargetForm holds the editable fields as typed.
type TargetForm struct {
	DockerMode     string
	DockerEndpoint string
	DockerCAPEM    string
	DockerCertPEM  string
	AWSRegion      string
	AWSInstanceID  string
	AWSPlan        string
	AWSMode        string
	AWSRoleARN     string
	AWSAccessKeyID string
	AppURL         string
}

// ConnectionReport is what "Test connection" found.
type ConnectionReport struct {
	DockerReached bool
	DockerSummary string
	DockerHint    string
	DockerDetails []string
	AWSLines      []string
}

// AgentView is the agent part of the target page.
type AgentView struct {
	Enabled     bool
	Connected   bool
	Since       time.Time
	LastSeen    time.Time
	DockerVer   string
	Hostname    string
	HasToken    bool
	TokenHint   string
	NewToken    string // shown once, right after it is made
	InstallLine string
	// DockerInstallLine runs the same agent as a container built locally;
	// DockerLine runs a published image (only when one is configured).
	DockerInstallLine string
	DockerLine        string
	ScriptURL         string
	TLSScriptURL      string
}
