package grader

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

// Kinds of the docker-reachable diagnosis; stable, so the server and the
// instructors' views can count near misses.
const (
	KindDockerRefused       = "refused"
	KindDockerTimeout       = "timeout"
	KindDockerUnreachable   = "unreachable"
	KindDockerDNS           = "dns"
	KindBlocked             = "blocked"
	KindTLSUnknownCA        = "tls-unknown-ca"
	KindTLSHostname         = "tls-hostname"
	KindTLSClientMissing    = "tls-client-cert-missing"
	KindTLSClientRejected   = "tls-client-cert-rejected"
	KindTLSHandshake        = "tls-handshake"
	KindNotTLS              = "not-tls"
	KindTLSRequired         = "tls-required"
	KindAPITooOld           = "api-too-old"
	KindNotDocker           = "not-docker"
	KindDockerError         = "docker-error"
	KindDockerPermission    = "permission-denied"
	KindDockerNotConfigured = "not-configured"
)

// diagnosis is why the Docker host could not be read, in words for the student.
type diagnosis struct {
	kind, summary, hint string
	evidence            []string
}

// diagnoseDocker turns a connection failure into its precise cause. The
// dial trace comes first: the Docker client hides refused and timed-out
// dials behind one generic message.
func diagnoseDocker(err error, env *Env) diagnosis {
	ep := env.Target.Docker.Endpoint
	ev := []string{"endpoint: " + ep}
	var cfg *configError
	if errors.As(err, &cfg) {
		return diagnosis{cfg.kind, cfg.msg + ".", cfg.hint, ev}
	}
	var old *apiTooOldError
	if errors.As(err, &old) {
		return diagnosis{KindAPITooOld, old.Error() + ".",
			"Upgrade Docker on the instance (sudo apt-get install -y docker.io, or Docker's own packages), then check again.", ev}
	}
	if d := env.docker.conn; d != nil {
		if de := d.trace.get(); de != nil {
			ev = append(ev, "connection error: "+de.Error())
			err = de
		} else {
			ev = append(ev, "error: "+err.Error())
		}
	} else {
		ev = append(ev, "error: "+err.Error())
	}
	if b, ok := asBlocked(err); ok {
		return diagnosis{KindBlocked, b.Error() + ".",
			"Use your instance's public IP or DNS name in the endpoint; the course server does not connect to private, loopback or metadata addresses.", ev}
	}
	msg := err.Error()
	var dnsErr *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recErr tls.RecordHeaderError
	switch {
	case errors.As(err, &dnsErr):
		return diagnosis{KindDockerDNS, "the host name in the endpoint does not resolve.",
			"Check the spelling of the host in the endpoint, or use the instance's public IP address.", ev}
	case errors.Is(err, syscall.ECONNREFUSED):
		return diagnosis{KindDockerRefused, "the host answered but nothing listens on the Docker port (connection refused).",
			"Make dockerd listen on TCP: start it with -H tcp://0.0.0.0:2376 --tlsverify (or \"hosts\" in /etc/docker/daemon.json), then restart Docker.", ev}
	case errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH):
		return diagnosis{KindDockerUnreachable, "no route to the host.",
			"Check the address in the endpoint: it should be the instance's public IP or DNS name, and the instance should be running.", ev}
	case isTimeout(err):
		return diagnosis{KindDockerTimeout, "the connection timed out: nothing answered on the Docker port.",
			"The port is probably closed in the instance's security group: allow inbound TCP 2376 from the course server, and check the instance is running.", ev}
	case errors.As(err, &unknownCA):
		return diagnosis{KindTLSUnknownCA, "TLS handshake failed: the host's certificate is not signed by the CA certificate you gave.",
			"Paste the ca.pem that signed the server certificate dockerd uses (--tlscacert), not another CA.", ev}
	case errors.As(err, &hostErr):
		return diagnosis{KindTLSHostname, "TLS handshake failed: the host's certificate does not name the address in the endpoint.",
			"Use the name or IP the server certificate was made for, or remake it with that address in its subjectAltName (extfile: subjectAltName = IP:<host_ip>).", ev}
	case errors.As(err, &recErr) || strings.Contains(msg, "does not look like a TLS handshake"):
		return diagnosis{KindNotTLS, "the Docker port does not speak TLS (it answered in plain HTTP).",
			"Start dockerd with --tlsverify --tlscacert --tlscert --tlskey so that port 2376 speaks TLS; never expose a plain Docker port.", ev}
	case strings.Contains(msg, "certificate required") && len(env.Target.Docker.ClientCert) > 0:
		// Go's TLS client withholds a certificate whose issuer the host did
		// not list as acceptable, so a wrong client certificate looks like none.
		return diagnosis{KindTLSClientRejected, "TLS handshake failed: the host did not accept the client certificate (it is not signed by the CA dockerd trusts).",
			"The client certificate must be signed by the CA dockerd trusts (--tlscacert); remake cert.pem with that CA and the extendedKeyUsage = clientAuth extension.", ev}
	case strings.Contains(msg, "certificate required"):
		return diagnosis{KindTLSClientMissing, "TLS handshake failed: the host requires a client certificate and none was sent.",
			"Paste the client certificate (cert.pem) and key (key.pem) made for the grader.", ev}
	case strings.Contains(msg, "bad certificate") || strings.Contains(msg, "unknown certificate authority") || strings.Contains(msg, "certificate unknown"):
		return diagnosis{KindTLSClientRejected, "TLS handshake failed: the host rejected the client certificate.",
			"The client certificate must be signed by the CA dockerd trusts (--tlscacert); remake cert.pem with that CA and the extendedKeyUsage = clientAuth extension.", ev}
	case strings.Contains(msg, "HTTP request to an HTTPS server") || strings.Contains(msg, "TLS-enabled daemon"):
		return diagnosis{KindTLSRequired, "the Docker port speaks TLS but no certificates were given.",
			"Paste the CA certificate, client certificate and client key of your dockerd --tlsverify setup.", ev}
	case (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) && env.docker.conn != nil && !env.docker.conn.tls:
		return diagnosis{KindTLSRequired, "the host closed the connection without an answer, as a TLS port does when spoken to in plain HTTP.",
			"If dockerd runs with --tlsverify (port 2376), paste its CA certificate, client certificate and key.", ev}
	case strings.Contains(msg, "tls:") || strings.Contains(msg, "x509:"):
		return diagnosis{KindTLSHandshake, "TLS handshake failed.",
			"Check that the CA, client certificate and key belong to the same setup as dockerd's --tlscacert/--tlscert/--tlskey.", ev}
	case errors.Is(err, syscall.EACCES) || strings.Contains(msg, "permission denied"):
		return diagnosis{KindDockerPermission, "permission denied on the Docker socket.",
			"Add your user to the docker group (sudo usermod -aG docker $USER, then log in again) or run with sudo.", ev}
	case strings.Contains(msg, "page not found") || strings.Contains(msg, "unexpected") || strings.Contains(msg, "invalid character"):
		return diagnosis{KindNotDocker, "something answered on that port, but it is not the Docker Engine API.",
			"Check the port: the Docker API is on 2376 (TLS); 8000 is the app.", ev}
	case strings.Contains(msg, "Cannot connect to the Docker daemon"):
		return diagnosis{KindDockerRefused, "could not connect to the Docker daemon.",
			"Check that dockerd runs and listens on the endpoint's port.", ev}
	}
	return diagnosis{KindDockerError, "the Docker API call failed.", "Check the endpoint and that Docker runs on the instance.", ev}
}

// isTimeout reports a dial or read that ran out of time.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ETIMEDOUT) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func init() {
	register(checkFunc{"docker-reachable", "The grader reaches your Docker host", checkDockerReachable})
}

func checkDockerReachable(ctx context.Context, env *Env) Result {
	if env.Target.Docker.Endpoint == "" && env.Target.Docker.Dial == nil {
		return result(StatusFail, KindDockerNotConfigured, "No Docker endpoint is set.",
			"Enter your Docker host (tcp://<host_ip>:2376) and its TLS certificates on the target page, or connect the agent.")
	}
	d, err := env.dockerBase(ctx)
	if err != nil {
		dg := diagnoseDocker(err, env)
		return result(StatusFail, dg.kind, "Cannot reach Docker: "+dg.summary, dg.hint, dg.evidence...)
	}
	v := d.version
	how := "without TLS"
	switch {
	case d.conn.tls:
		how = "over TLS, certificates verified"
	case env.Target.Docker.Dial != nil:
		how = "through the agent"
	}
	return result(StatusPass, "", "Reached Docker Engine "+v.Version+" (API "+v.APIVersion+") "+how+".", "",
		"endpoint: "+d.conn.endpoint,
		"engine: "+v.Version+" on "+v.Os+"/"+v.Arch+", API "+v.APIVersion+" (negotiated "+d.conn.cli.ClientVersion()+")")
}
