package grader

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/docker/client"
)

// LocalPolicy is the policy of `workshop check` on a student's own
// machine: the local engine and private addresses are theirs to inspect.
var LocalPolicy = Policy{AllowPlainDocker: true, AllowLoopback: true, AllowPrivate: true}

// LocalTarget reads the Docker endpoint the docker CLI would use from the
// environment (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH), as
// client.FromEnv does, so the same checks run as on the server.
func LocalTarget() (Target, error) {
	var t Target
	host := os.Getenv(client.EnvOverrideHost)
	if host == "" {
		host = client.DefaultDockerHost
	}
	t.Docker.Endpoint = host
	t.AllowPrivate = true
	if os.Getenv(client.EnvTLSVerify) == "" {
		return t, nil
	}
	dir := os.Getenv(client.EnvOverrideCertPath)
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".docker")
	}
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{"ca.pem", &t.Docker.CACert}, {"cert.pem", &t.Docker.ClientCert}, {"key.pem", &t.Docker.ClientKey}} {
		b, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			return t, fmt.Errorf("DOCKER_TLS_VERIFY is set: %w", err)
		}
		*f.dst = b
	}
	return t, nil
}

// statusMark is how a status reads in a terminal.
var statusMark = map[Status]string{StatusPass: "PASS", StatusFail: "FAIL", StatusWarn: "WARN", StatusError: "ERROR"}

// WriteResults prints results as a readable list: one line per check,
// then its evidence and hint, indented.
func WriteResults(w io.Writer, rs []Result) {
	for _, r := range rs {
		kind := ""
		if r.Kind != "" {
			kind = " [" + r.Kind + "]"
		}
		fmt.Fprintf(w, "%-5s %-30s %s%s (%s)\n", statusMark[r.Status], r.CheckID, r.Summary, kind, r.Duration.Round(time.Millisecond))
		for _, e := range r.Evidence {
			fmt.Fprintf(w, "        %s\n", e)
		}
		if r.Hint != "" {
			fmt.Fprintf(w, "      → %s\n", r.Hint)
		}
	}
	fmt.Fprintln(w, tally(rs))
}

// WriteJSON prints results as a JSON array, for scripts.
func WriteJSON(w io.Writer, rs []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if rs == nil {
		rs = []Result{}
	}
	return enc.Encode(rs)
}

func tally(rs []Result) string {
	n := map[Status]int{}
	for _, r := range rs {
		n[r.Status]++
	}
	return fmt.Sprintf("%d passed, %d failed, %d warnings, %d errors", n[StatusPass], n[StatusFail], n[StatusWarn], n[StatusError])
}

// Failed reports whether a step is not done: a check failed or could not
// decide. Warnings do not fail a step.
func Failed(rs []Result) bool {
	for _, r := range rs {
		if r.Status == StatusFail || r.Status == StatusError {
			return true
		}
	}
	return false
}

// ParseCheckList splits a --checks value ("a,b") and rejects unknown ids.
func ParseCheckList(s string) ([]string, error) {
	var ids []string
	for _, id := range strings.Split(s, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !Known(id) {
			return nil, fmt.Errorf("unknown check %q", id)
		}
		ids = append(ids, id)
	}
	return ids, nil
}
