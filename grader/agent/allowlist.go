package agent

import (
	"net/url"
	"path"
	"regexp"
	"strings"
)

// The allowlist is the only thing that keeps the tunnel read-only: the agent
// holds a Docker socket, which is root on the host, so every request the
// server sends is checked here, on the student's machine, before it reaches
// the engine. It is written as a short list of exact shapes rather than a
// list of forbidden things, so that an endpoint added to a future engine is
// refused until someone decides it is safe.

// versionPrefix matches the optional API version the Docker client puts in
// front of every path ("/v1.41/containers/json").
var versionPrefix = regexp.MustCompile(`^/v[0-9]+\.[0-9]+(/.*)$`)

// safePath is every character a read the grader makes can need: container
// ids and names ([a-zA-Z0-9_.-]) and image references, which add "/", ":"
// (a tag or a registry port) and "@" (a digest). Anything else (percent
// signs, backslashes, spaces, control characters) is refused outright, so
// the engine can never decode a path differently from the agent.
var safePath = regexp.MustCompile(`^[A-Za-z0-9_.:@/-]+$`)

// allowedPaths are the read-only endpoints, after the version prefix.
var allowedPaths = []*regexp.Regexp{
	regexp.MustCompile(`^/_ping$`),
	regexp.MustCompile(`^/version$`),
	regexp.MustCompile(`^/info$`),
	regexp.MustCompile(`^/system/df$`),
	regexp.MustCompile(`^/containers/json$`),
	regexp.MustCompile(`^/containers/[A-Za-z0-9][A-Za-z0-9_.-]*/json$`),
	regexp.MustCompile(`^/containers/[A-Za-z0-9][A-Za-z0-9_.-]*/logs$`),
	regexp.MustCompile(`^/images/json$`),
	// Image references may contain slashes (registry/repo/name:tag); the
	// engine routes "/images/{name:.*}/json" the same way.
	regexp.MustCompile(`^/images/[A-Za-z0-9][A-Za-z0-9_.:@/-]*/(json|history)$`),
	regexp.MustCompile(`^/networks$`),
	regexp.MustCompile(`^/networks/[A-Za-z0-9][A-Za-z0-9_.-]*$`),
}

// logsPath is the one endpoint that can stream forever (follow=1); it is
// allowed only as a finite read.
var logsPath = regexp.MustCompile(`^/containers/[^/]+/logs$`)

// Allowed reports whether the agent forwards a request to the local Docker
// engine. target is the request target as sent on the wire, "path" or
// "path?query", with or without the /v1.NN version prefix. Only GET and
// HEAD of the read-only endpoints the grader uses pass.
func Allowed(method, target string) bool {
	ok, _ := checkRequest(method, target)
	return ok
}

// checkRequest is Allowed with the reason for a refusal, for the log line
// on the student's host.
func checkRequest(method, target string) (bool, string) {
	if method != "GET" && method != "HEAD" {
		return false, "method " + method + " changes state"
	}
	rawPath, rawQuery, _ := strings.Cut(target, "?")
	if !strings.HasPrefix(rawPath, "/") {
		return false, "request target is not a plain path"
	}
	if strings.Contains(rawQuery, "#") {
		return false, "fragment in request target"
	}
	// Decode, then insist nothing was encoded and nothing moves when the
	// path is cleaned: "/v1.41/../../etc", "//containers", "/%2e%2e/" and
	// a trailing slash are all refused rather than normalised, because a
	// path the agent normalises differently from the engine is how an
	// allowlist is bypassed.
	decoded, err := url.PathUnescape(rawPath)
	if err != nil || decoded != rawPath {
		return false, "percent-encoded path"
	}
	if !safePath.MatchString(rawPath) {
		return false, "unexpected characters in path"
	}
	if path.Clean(rawPath) != rawPath {
		return false, "path is not clean (dot segments, double or trailing slash)"
	}
	p := rawPath
	if m := versionPrefix.FindStringSubmatch(p); m != nil {
		p = m[1]
	}
	matched := false
	for _, re := range allowedPaths {
		if re.MatchString(p) {
			matched = true
			break
		}
	}
	if !matched {
		return false, "path is not on the read-only allowlist"
	}
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return false, "malformed query"
	}
	if logsPath.MatchString(p) {
		for _, v := range query["follow"] {
			if truthy(v) {
				return false, "following logs streams forever"
			}
		}
	}
	return true, ""
}

// truthy mirrors the engine's own reading of boolean query values
// (httputils.BoolValue): anything but "", "0", "no", "false" and "none" is
// true, so "follow=yes" or "follow=TRUE" cannot slip through.
func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "no", "false", "none":
		return false
	}
	return true
}
