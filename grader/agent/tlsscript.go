package agent

import (
	"bytes"
	_ "embed"
	"strings"
)

//go:embed docker-tls.sh
var dockerTLSScript []byte

// DockerTLSScript is the TLS setup script the server serves at
// GET /connect/docker-tls.sh, with the server's own address (shown to the
// student as the only source to open port 2376 to) and an optional
// short-lived upload URL baked in. With an upload URL the script POSTs the
// client bundle there as multipart form fields "endpoint"
// (tcp://HOST:2376), "ca", "cert" and "key" (PEM files); without one it
// prints the bundle for pasting.
func DockerTLSScript(serverURL, uploadURL string) []byte {
	s := bytes.Replace(dockerTLSScript, []byte(`'__WORKSHOP_SERVER_URL__'`), []byte(shQuote(serverURL)), 1)
	return bytes.Replace(s, []byte(`'__WORKSHOP_UPLOAD_URL__'`), []byte(shQuote(uploadURL)), 1)
}

// shQuote quotes s for a POSIX shell: whatever the URL holds, it stays one
// word and is never interpreted.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
