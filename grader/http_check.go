package grader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// Near-miss kinds of app-answers-http.
const (
	KindHTTPTimeout   = "timeout"
	KindHTTPRefused   = "refused"
	KindHTTPReset     = "connection-reset"
	KindDisallowed    = "disallowed-host"
	KindServerError   = "server-error"
	KindNotLabPage    = "not-lab-page"
	KindUnexpected    = "unexpected-status"
	KindNoAppAddress  = "no-address"
	KindBadAppAddress = "bad-address"
)

// appTimeout bounds the GET of the app; an answer slower than this is as
// good as none for a student's browser.
const appTimeout = 10 * time.Second

func init() {
	register(checkFunc{"app-answers-http", "The app answers from outside on port 8000", checkAppAnswers})
}

// appURL is the address the app should answer on: the student's override,
// else the instance's public IP (from the EC2 snapshot) on port 8000.
func (e *Env) appURL(ctx context.Context) (string, error) {
	if u := strings.TrimSpace(e.Target.AppURL); u != "" {
		if !strings.Contains(u, "://") {
			u = "http://" + u
		}
		p, err := url.Parse(u)
		if err != nil || p.Hostname() == "" || (p.Scheme != "http" && p.Scheme != "https") {
			return "", fmt.Errorf("the app address %q is not an http:// URL", e.Target.AppURL)
		}
		return p.String(), nil
	}
	snap, err := e.ec2Snapshot(ctx)
	if err != nil {
		return "", err
	}
	switch {
	case snap.PublicIP != "":
		return "http://" + snap.PublicIP + ":8000/", nil
	case snap.PublicDNS != "":
		return "http://" + snap.PublicDNS + ":8000/", nil
	}
	return "", errNoPublicAddress
}

var errNoPublicAddress = errors.New("the instance has no public IP address")

// labMarker recognises the lab app's page (see content/lab).
var labMarker = regexp.MustCompile(`Workshop lab app|<meta[^>]+name="workshop-lab"`)

var titleRE = regexp.MustCompile(`(?is)<title>(.*?)</title>`)

func checkAppAnswers(ctx context.Context, env *Env) Result {
	u, err := env.appURL(ctx)
	if err != nil {
		var r Result
		switch {
		case errors.Is(err, errNoPublicAddress):
			return result(StatusFail, KindNoAppAddress, "Your instance has no public IP address.",
				"Give it one (an Elastic IP, or launch with auto-assign public IP), or enter the app's address on the target page.")
		case strings.Contains(err.Error(), "not an http:// URL"):
			return result(StatusFail, KindBadAppAddress, "The app address on the target page cannot be used.",
				"Write it as http://<host_ip>:8000/.", err.Error())
		}
		resultFromError(err, &r)
		if r.Status == "" {
			r = result(StatusError, "", "Could not find the app's address.", "", err.Error())
		}
		return r
	}
	g := env.Guard
	if g == nil {
		g = &Guard{}
	}
	ctx, cancel := context.WithTimeout(ctx, appTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return result(StatusFail, KindBadAppAddress, "The app address cannot be used.", "Write it as http://<host_ip>:8000/.", err.Error())
	}
	req.Header.Set("User-Agent", "workshop-grader")
	resp, err := g.HTTPClient(appTimeout).Do(req)
	ev := []string{"GET " + u}
	if err != nil {
		return httpFailure(err, u, ev)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 256<<10))
	ev = append(ev, "answer: "+resp.Status)
	if resp.Request != nil && resp.Request.URL.String() != u {
		ev = append(ev, "after redirects: "+resp.Request.URL.String())
	}
	if m := titleRE.FindSubmatch(body); m != nil {
		ev = append(ev, "page title: "+strings.TrimSpace(string(m[1])))
	}
	switch {
	case resp.StatusCode == http.StatusOK && labMarker.Match(body):
		return result(StatusPass, "", "The lab app answers at "+u+".", "", ev...)
	case resp.StatusCode == http.StatusOK:
		return result(StatusFail, KindNotLabPage, "Something answers at "+u+", but it is not the lab's Django app.",
			"Check which container publishes port 8000 (docker ps) and that it runs the image built from django-app.", ev...)
	case resp.StatusCode == http.StatusBadRequest:
		host := req.URL.Hostname()
		return result(StatusFail, KindDisallowed, "The app answers 400 Bad Request: Django refuses the host name "+host+" (ALLOWED_HOSTS).",
			"Replace the container with one that allows the address: docker rm -f web, then docker run -d --name web -p 8000:8000 -e DJANGO_ALLOWED_HOSTS="+host+",localhost django-app", ev...)
	case resp.StatusCode >= 500:
		return result(StatusFail, KindServerError, "The app answers with a server error ("+resp.Status+").",
			"Read the container's log (docker logs <container_id>) for the Python traceback.", ev...)
	}
	return result(StatusFail, KindUnexpected, "The app answers "+resp.Status+" instead of the lab's page.",
		"Open "+u+" in a browser and compare with the lab's page; check the URL's path on the target page.", ev...)
}

// httpFailure diagnoses a GET that got no HTTP answer.
func httpFailure(err error, u string, ev []string) Result {
	ev = append(ev, "error: "+err.Error())
	var dnsErr *net.DNSError
	if b, ok := asBlocked(err); ok {
		return result(StatusError, KindBlocked, b.Error()+".",
			"Use the instance's public IP or DNS name; the course server does not connect to private, loopback or metadata addresses.", ev...)
	}
	switch {
	case errors.As(err, &dnsErr):
		return result(StatusFail, KindDockerDNS, "The app's host name does not resolve.", "Use the instance's public IP address.", ev...)
	case errors.Is(err, syscall.ECONNREFUSED):
		return result(StatusFail, KindHTTPRefused, "The instance refused the connection on port 8000: nothing listens there.",
			"The container is not running or not published: docker ps should show 0.0.0.0:8000->8000/tcp. Run it with "+runHint+".", ev...)
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return result(StatusFail, KindHTTPReset, "Port 8000 accepted the connection, then closed it without an answer.",
			"Docker publishes the port, but the app inside is not listening on 0.0.0.0:8000 (or has crashed): run it with runserver 0.0.0.0:8000 and check docker logs.", ev...)
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		return result(StatusFail, KindDockerUnreachable, "No route to the app's host.", "Check the instance runs and the address is its public IP.", ev...)
	case isTimeout(err):
		return result(StatusFail, KindHTTPTimeout, fmt.Sprintf("No answer from %s within %s.", u, appTimeout),
			"The security group probably does not allow inbound TCP 8000: add a rule for port 8000 (and check the instance is running).", ev...)
	}
	return result(StatusFail, KindUnexpected, "The app could not be reached.", "Open the address in a browser and check the container runs.", ev...)
}
