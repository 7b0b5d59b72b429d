package server

import (
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/grader"
	"github.com/coursekit/workshop/store"
	"github.com/coursekit/workshop/web"
)

// TargetConfig is the server-wide part of the target page.
type TargetConfig struct {
	CourseAccountID string   // trusted by students' read-only roles
	TemplateURL     string   // the role template's S3 address, for the console's quick create
	ServerEgress    []string // the addresses checks come from
	AllowPlain      bool     // tcp:// without TLS and unix:// endpoints
}

var (
	regionRE     = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-\d$`)
	instanceRE   = regexp.MustCompile(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)
	roleARNRE    = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
	accessKeyRE  = regexp.MustCompile(`^(AKIA|ASIA)[A-Z0-9]{16}$`)
	secretKeyRE  = regexp.MustCompile(`^[A-Za-z0-9/+=]{40}$`)
	dockerHostRE = regexp.MustCompile(`^(tcp://[A-Za-z0-9.\-\[\]:]+:\d{1,5}|unix:///[\w./-]+)$`)
)

// targetPage shows the student's setup.
func (s *Server) targetPage(c echo.Context) error {
	p, err := s.targetView(c, nil)
	if err != nil {
		return err
	}
	p.Saved = c.QueryParam("saved") == "1"
	return s.render(c, "target", p)
}

func (s *Server) targetView(c echo.Context, form *web.TargetForm) (web.TargetPage, error) {
	u := s.currentUser(c)
	t, err := s.db.Target(c.Request().Context(), u.ID)
	if err != nil {
		return web.TargetPage{}, err
	}
	p := web.TargetPage{Page: s.page(c, "My setup"), DockerKeyHint: t.DockerKeyHint, AWSSecretHint: t.AWSSecretHint,
		HasDockerKey: t.DockerKeyPEM != "", HasAWSSecret: t.AWSSecret != "", AllowPlain: s.targets.AllowPlain,
		ExternalID: t.AWSExternalID, CourseAccountID: s.targets.CourseAccountID, ServerEgress: s.targets.ServerEgress, TemplateURL: s.targets.TemplateURL}
	p.Page.Nav = "target"
	if form != nil {
		p.Form = *form
	} else {
		p.Form = web.TargetForm{DockerMode: t.DockerMode, DockerEndpoint: t.DockerEndpoint, DockerCAPEM: t.DockerCAPEM, DockerCertPEM: t.DockerCertPEM,
			AWSRegion: t.AWSRegion, AWSInstanceID: t.AWSInstanceID, AWSPlan: t.AWSPlan, AWSMode: t.AWSMode, AWSRoleARN: t.AWSRoleARN,
			AWSAccessKeyID: t.AWSAccessKeyID, AppURL: t.AppURL}
		if t.DockerMode == "none" && t.DockerEndpoint == "" && t.DockerCAPEM == "" {
			// Nothing set up yet: offer the recommended way first.
			p.Form.DockerMode = "agent"
		}
	}
	account := s.targets.CourseAccountID
	if account == "" {
		account = "<course_account_id>"
	}
	p.TrustPolicy = grader.TrustPolicy(account, t.AWSExternalID)
	p.PermissionPolicy = grader.PermissionPolicy()
	setup := grader.RoleSetup{CourseAccountID: s.targets.CourseAccountID, ExternalID: t.AWSExternalID, TemplateURL: s.targets.TemplateURL, Region: t.AWSRegion}
	if setup.Validate() == nil {
		p.IAMCommands = setup.IAMCommands()
		if s.targets.TemplateURL != "" {
			p.QuickCreateURL = setup.QuickCreateURL()
		}
	}
	p.Agent = s.agentView(c, u.ID)
	return p, nil
}

// saveTarget validates and stores the setup; bad fields re-render the
// form with what was typed and a message beside each.
func (s *Server) saveTarget(c echo.Context) error {
	u := s.currentUser(c)
	form, update, errs := s.readTargetForm(c)
	if len(errs) > 0 {
		p, err := s.targetView(c, &form)
		if err != nil {
			return err
		}
		p.Errors = errs
		return s.renderStatus(c, http.StatusUnprocessableEntity, "target", p)
	}
	if err := s.db.SaveTarget(c.Request().Context(), u.ID, update); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/target?saved=1")
}

// testTarget reports what the grader can reach with the stored setup.
func (s *Server) testTarget(c echo.Context) error {
	u := s.currentUser(c)
	target, err := s.graderTarget(c.Request().Context(), u.ID, s.studentCohort(c))
	if err != nil {
		return err
	}
	rep := s.grader.TestConnection(c.Request().Context(), target)
	if wantsJSON(c) {
		return c.JSON(http.StatusOK, rep)
	}
	p, err := s.targetView(c, nil)
	if err != nil {
		return err
	}
	view := &web.ConnectionReport{DockerReached: rep.Docker.Reached, DockerSummary: rep.Docker.Summary, DockerHint: rep.Docker.Hint, AWSLines: rep.AWS}
	if rep.Docker.ServerVersion != "" {
		view.DockerDetails = append(view.DockerDetails, "Docker Engine "+rep.Docker.ServerVersion+" (API "+rep.Docker.APIVersion+", "+rep.Docker.OSArch+")")
	}
	if rep.Docker.TLS {
		view.DockerDetails = append(view.DockerDetails, "TLS with your client certificate")
	}
	p.Report = view
	return s.render(c, "target", p)
}

func (s *Server) readTargetForm(c echo.Context) (web.TargetForm, store.TargetUpdate, map[string]string) {
	errs := map[string]string{}
	get := func(name string, max int) string {
		v := strings.TrimSpace(c.FormValue(name))
		if !utf8.ValidString(v) {
			errs[name] = "This is not valid UTF-8 text."
			return ""
		}
		if len(v) > max {
			errs[name] = "This is too long."
			return ""
		}
		return v
	}
	// A PEM may be pasted or uploaded; an uploaded file wins.
	pemField := func(name string) string {
		if fh, err := c.FormFile(name + "_file"); err == nil {
			f, err := fh.Open()
			if err == nil {
				defer f.Close()
				b, _ := io.ReadAll(io.LimitReader(f, 64<<10))
				return strings.TrimSpace(string(b))
			}
		}
		return get(name, 64<<10)
	}
	f := web.TargetForm{
		DockerMode: get("docker_mode", 10), DockerEndpoint: get("docker_endpoint", 300), DockerCAPEM: pemField("docker_ca"), DockerCertPEM: pemField("docker_cert"),
		AWSRegion: get("aws_region", 30), AWSInstanceID: get("aws_instance_id", 30), AWSPlan: get("aws_plan", 10), AWSMode: get("aws_mode", 10),
		AWSRoleARN: get("aws_role_arn", 600), AWSAccessKeyID: get("aws_access_key_id", 40), AppURL: get("app_url", 300),
	}
	key := pemField("docker_key")
	secret := get("aws_secret", 100)
	u := store.TargetUpdate{DockerMode: f.DockerMode, DockerEndpoint: f.DockerEndpoint, DockerCAPEM: f.DockerCAPEM, DockerCertPEM: f.DockerCertPEM,
		AWSRegion: f.AWSRegion, AWSInstanceID: f.AWSInstanceID, AWSPlan: f.AWSPlan, AWSMode: f.AWSMode, AWSRoleARN: f.AWSRoleARN,
		AWSAccessKeyID: f.AWSAccessKeyID, AppURL: f.AppURL}
	if key != "" {
		u.DockerKeyPEM = &key
	}
	if secret != "" {
		u.AWSSecret = &secret
	}
	switch f.DockerMode {
	case "none", "agent":
	case "tls":
		if !strings.HasPrefix(f.DockerEndpoint, "tcp://") || !dockerHostRE.MatchString(f.DockerEndpoint) {
			errs["docker_endpoint"] = "Use tcp://HOST:2376, the address of your instance and the port dockerd listens on with --tlsverify."
		}
		checkPEM(errs, "docker_ca", f.DockerCAPEM, "CERTIFICATE", "Paste ca.pem: the certificate of the CA that signed your Docker host's certificate.")
		checkPEM(errs, "docker_cert", f.DockerCertPEM, "CERTIFICATE", "Paste cert.pem: the client certificate the host's CA signed.")
		if key != "" {
			checkPEM(errs, "docker_key", key, "PRIVATE KEY", "Paste key.pem: the client certificate's private key.")
		} else if c.FormValue("keep_docker_key") == "" {
			errs["docker_key"] = "Paste key.pem: the client certificate's private key."
		}
	case "plain":
		if !s.targets.AllowPlain {
			errs["docker_mode"] = "This server only accepts Docker hosts over TLS or through the agent. Ask your instructor if you are in a local lab."
		} else if !dockerHostRE.MatchString(f.DockerEndpoint) {
			errs["docker_endpoint"] = "Use tcp://HOST:PORT or unix:///var/run/docker.sock."
		}
	default:
		errs["docker_mode"] = "Choose how the course reaches your Docker host."
	}
	if f.AWSPlan != "legacy" && f.AWSPlan != "credits" {
		errs["aws_plan"] = "Choose your account's free-tier plan: created before 15 July 2025 (legacy) or since (credits)."
	}
	switch f.AWSMode {
	case "none":
	case "role", "keys":
		if !regionRE.MatchString(f.AWSRegion) {
			errs["aws_region"] = "Use a Region code such as eu-west-1 or us-east-1 (the instance's Region, shown at the top right of the EC2 console)."
		}
		if !instanceRE.MatchString(f.AWSInstanceID) {
			errs["aws_instance_id"] = "Use the instance id from the EC2 console, such as i-0123456789abcdef0."
		}
		if f.AWSMode == "role" && !roleARNRE.MatchString(f.AWSRoleARN) {
			errs["aws_role_arn"] = "Paste the role's ARN, such as arn:aws:iam::123456789012:role/WorkshopGraderReadOnly."
		}
		if f.AWSMode == "keys" {
			if !accessKeyRE.MatchString(f.AWSAccessKeyID) {
				errs["aws_access_key_id"] = "An access key id has 20 characters and starts with AKIA."
			}
			if secret != "" && !secretKeyRE.MatchString(secret) {
				errs["aws_secret"] = "A secret access key has 40 characters (letters, digits, / and +)."
			} else if secret == "" && c.FormValue("keep_aws_secret") == "" {
				errs["aws_secret"] = "Paste the secret access key of the read-only user."
			}
		}
	default:
		errs["aws_mode"] = "Choose how the course may read your EC2 instance."
	}
	if f.AppURL != "" {
		if pu, err := url.Parse(f.AppURL); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			errs["app_url"] = "Use a full address such as http://203.0.113.10:8000, or leave it empty to use the instance's public IP."
		}
	}
	return f, u, errs
}

func checkPEM(errs map[string]string, field, value, want, msg string) {
	block, _ := pem.Decode([]byte(value))
	if block == nil || !strings.Contains(block.Type, want) {
		errs[field] = msg
		return
	}
	if want == "CERTIFICATE" {
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			errs[field] = "This PEM block is not a readable certificate: " + msg
		}
	}
}
