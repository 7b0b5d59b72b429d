package server

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/coursekit/workshop/grader"
	"github.com/coursekit/workshop/grader/agent"
	"github.com/coursekit/workshop/store"
)

// uploadTokenLifetime is how long the TLS script's upload link works.
const uploadTokenLifetime = 15 * time.Minute

// dockerTLSScript is GET /connect/docker-tls.sh. A signed-in student's copy
// carries a short-lived, single-use link with which it uploads the client
// bundle into their target; anyone else's prints the bundle for pasting.
func (s *Server) dockerTLSScript(c echo.Context) error {
	base := s.publicBase(c)
	upload := ""
	if u := s.currentUser(c); u != nil {
		tok := newToken()
		if err := s.db.CreateUploadToken(c.Request().Context(), u.ID, hashToken(tok), s.now().Add(uploadTokenLifetime)); err != nil {
			return err
		}
		upload = base + "/connect/docker-tls/" + tok
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `inline; filename="docker-tls.sh"`)
	return c.Blob(http.StatusOK, "text/x-shellscript; charset=utf-8", agent.DockerTLSScript(base, upload))
}

// uploadDockerTLS is POST /connect/docker-tls/:token: the TLS script sends
// the client bundle (multipart fields endpoint, ca, cert, key) and it
// becomes the student's Docker target over TLS. The link is the
// authentication, so the request carries no session and no CSRF token
// (see skipCSRF). Answers are plain text for the terminal.
func (s *Server) uploadDockerTLS(c echo.Context) error {
	ctx := c.Request().Context()
	hash := hashToken(c.Param("token"))
	t, err := s.db.UploadToken(ctx, hash)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return c.String(http.StatusNotFound, "This upload link is not known. Download the script again from the course's target page while signed in.\n")
	case err != nil:
		return err
	case t.UsedAt != nil:
		return c.String(http.StatusGone, "This upload link was already used; each works once. Download the script again from the course's target page while signed in.\n")
	case !s.now().Before(t.ExpiresAt):
		return c.String(http.StatusGone, "This upload link has expired (links work for 15 minutes). Download the script again from the course's target page while signed in.\n")
	}
	b, errs := readTLSBundle(c)
	if len(errs) > 0 {
		return c.String(http.StatusUnprocessableEntity, "The bundle was not stored:\n"+strings.Join(errs, "\n")+"\n")
	}
	if _, err := s.db.UseUploadToken(ctx, hash, s.now(), b); errors.Is(err, store.ErrNotFound) {
		return c.String(http.StatusGone, "This upload link was used or expired a moment ago. Download the script again from the course's target page while signed in.\n")
	} else if err != nil {
		return err
	}
	return c.String(http.StatusOK, "Stored: the course reaches your Docker host at "+b.Endpoint+" over TLS. Press \"Test connection\" on the target page.\n")
}

// readTLSBundle reads and checks the script's upload the way the target
// page checks a pasted bundle; each problem is one line of the answer.
func readTLSBundle(c echo.Context) (store.DockerTLS, []string) {
	fields := map[string]string{}
	errs := map[string]string{}
	field := func(name string) string {
		v := ""
		if fh, err := c.FormFile(name); err == nil {
			v, err = readPart(fh)
			if err != nil {
				errs[name] = name + ": " + err.Error()
			}
		} else {
			v = c.FormValue(name)
		}
		v = strings.TrimSpace(v)
		if !utf8.ValidString(v) {
			errs[name] = name + ": not valid UTF-8 text."
			return ""
		}
		return v
	}
	for _, name := range []string{"endpoint", "ca", "cert", "key"} {
		fields[name] = field(name)
	}
	b := store.DockerTLS{Endpoint: fields["endpoint"], CAPEM: fields["ca"], CertPEM: fields["cert"], KeyPEM: fields["key"]}
	if len(b.Endpoint) > 300 || !strings.HasPrefix(b.Endpoint, "tcp://") || !dockerHostRE.MatchString(b.Endpoint) {
		errs["endpoint"] = "endpoint: use tcp://HOST:2376, the instance's address and the port dockerd listens on with --tlsverify."
	}
	pemErrs := map[string]string{}
	checkPEM(pemErrs, "ca", b.CAPEM, "CERTIFICATE", "send ca.pem, the certificate of the CA that signed the Docker host's certificate.")
	checkPEM(pemErrs, "cert", b.CertPEM, "CERTIFICATE", "send cert.pem, the client certificate the host's CA signed.")
	checkPEM(pemErrs, "key", b.KeyPEM, "PRIVATE KEY", "send key.pem, the client certificate's private key.")
	for name, msg := range pemErrs {
		if _, ok := errs[name]; !ok {
			errs[name] = name + ": " + msg
		}
	}
	out := make([]string, 0, len(errs))
	for _, msg := range errs {
		out = append(out, msg)
	}
	sort.Strings(out)
	return b, out
}

// readPart reads an uploaded PEM file, refusing anything too big for one.
func readPart(fh *multipart.FileHeader) (string, error) {
	f, err := fh.Open()
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64<<10+1))
	if err != nil {
		return "", err
	}
	if len(b) > 64<<10 {
		return "", errors.New("larger than 64 KiB, which no PEM file of the bundle is")
	}
	return string(b), nil
}

// readOnlyRoleTemplate is GET /connect/readonly-role.yaml: the
// CloudFormation template of the read-only role, for download (and for the
// instructor to copy to S3, where the console's quick create reads it).
func (s *Server) readOnlyRoleTemplate(c echo.Context) error {
	c.Response().Header().Set("Content-Disposition", `attachment; filename="readonly-role.yaml"`)
	return c.Blob(http.StatusOK, "application/yaml; charset=utf-8", grader.ReadOnlyRoleTemplate())
}
