package agent

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
)

//go:embed install.sh
var installScript string

// The agent runs as a dedicated system user, workshop-agent, in the docker
// group, rather than as root or a DynamicUser: it needs nothing but the
// Docker socket, and a fixed user lets the install script add it to the
// docker group once. Membership of the docker group is root-equivalent, so
// this is not what keeps the host safe (the allowlist is); the unit's
// sandboxing makes sure the process itself holds no capability and can
// write nowhere, should the binary ever be tricked into something else.

// SystemdUnit is workshop-agent.service for a server at serverURL; the
// token comes from /etc/workshop-agent.env (mode 0600), so it is in neither
// the unit nor the process list.
func SystemdUnit(serverURL string) string {
	// systemd expands % specifiers and splits on spaces: escape and quote.
	arg := strings.NewReplacer("%", "%%", `\`, `\\`, `"`, `\"`).Replace(serverURL)
	return `[Unit]
Description=Workshop agent: read-only Docker API access for the course server
Documentation=` + strings.ReplaceAll(serverURL, "%", "%%") + `
Wants=network-online.target
After=network-online.target docker.service

[Service]
ExecStart=/usr/local/bin/workshop agent --server "` + arg + `"
EnvironmentFile=/etc/workshop-agent.env
User=workshop-agent
SupplementaryGroups=docker
Restart=always
RestartSec=5
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native

[Install]
WantedBy=multi-user.target
`
}

// InstallScript is the POSIX sh script the server serves at
// GET /agent/install.sh: it downloads SERVER/downloads/workshop-linux-ARCH
// for this machine (amd64 or arm64, by uname -m), checks it against
// SERVER/downloads/SHA256SUMS, installs it to /usr/local/bin/workshop,
// creates the workshop-agent user in the docker group, writes the token to
// /etc/workshop-agent.env and the unit above, and enables the service.
func InstallScript(serverURL string) string {
	s := strings.Replace(installScript, "'__WORKSHOP_SERVER_URL__'", shQuote(strings.TrimSuffix(serverURL, "/")), 1)
	return strings.Replace(s, "__WORKSHOP_SYSTEMD_UNIT__\n", SystemdUnit(serverURL), 1)
}

// Snippets are the ways to install the agent that the target page shows.
type Snippets struct {
	// OneLine installs and starts the systemd service.
	OneLine string
	// OneLineDocker installs the same verified binary as a container, in a
	// small image built on the host (no registry needed).
	OneLineDocker string
	// Manual downloads and verifies the binary by hand, with the release
	// checksums shown, and runs it in the foreground.
	Manual string
	// SystemdUnit is the unit the one-liner writes.
	SystemdUnit string
	// DockerRun runs the agent as a container instead.
	DockerRun string
}

// InstallSnippets fills the snippets in for a server, a token (the real one
// right after it was created, else a placeholder such as "YOUR_TOKEN"), the
// container image that carries the workshop binary (chosen by whoever
// publishes releases; empty leaves DockerRun out) and the release checksums
// by file name, as in SHA256SUMS.
func InstallSnippets(serverURL, token, image string, sums map[string]string) Snippets {
	serverURL = strings.TrimSuffix(serverURL, "/")
	tok := shQuote(token)
	s := Snippets{
		OneLine:       fmt.Sprintf("curl -fsSL %s/agent/install.sh | sudo sh -s -- --token %s", shQuote(serverURL), tok),
		OneLineDocker: fmt.Sprintf("curl -fsSL %s/agent/install.sh | sudo sh -s -- --token %s --docker", shQuote(serverURL), tok),
		SystemdUnit:   SystemdUnit(serverURL),
	}
	var b strings.Builder
	b.WriteString("# Download the agent for this machine and check it against the course's checksums.\n")
	b.WriteString("case $(uname -m) in x86_64) ARCH=amd64 ;; aarch64) ARCH=arm64 ;; *) echo unsupported; exit 1 ;; esac\n")
	fmt.Fprintf(&b, "curl -fsSLo workshop %s/downloads/workshop-linux-$ARCH\n", shQuote(serverURL))
	names := make([]string, 0, len(sums))
	for name := range sums {
		names = append(names, name)
	}
	sort.Strings(names)
	b.WriteString("case $ARCH in")
	for _, name := range names {
		if arch, ok := strings.CutPrefix(name, "workshop-linux-"); ok {
			fmt.Fprintf(&b, " %s) SUM=%s ;;", arch, sums[name])
		}
	}
	b.WriteString(" *) SUM=unknown ;; esac\n")
	b.WriteString("echo \"$SUM  workshop\" | sha256sum -c - || { echo 'checksum mismatch: do not run this file'; rm -f workshop; }\n")
	b.WriteString("chmod +x workshop\n")
	fmt.Fprintf(&b, "WORKSHOP_AGENT_TOKEN=%s ./workshop agent --server %s\n", tok, shQuote(serverURL))
	s.Manual = b.String()
	if image != "" {
		s.DockerRun = "# The :ro mount only stops the container from replacing the socket file; it does\n" +
			"# not make the Docker API read-only. The agent's own allowlist is what refuses every\n" +
			"# request that could change this host.\n" +
			"docker run -d --name workshop-agent --restart unless-stopped \\\n" +
			"  --read-only --cap-drop ALL --security-opt no-new-privileges \\\n" +
			"  --user 65534:65534 --group-add \"$(getent group docker | cut -d: -f3)\" \\\n" +
			"  -v /var/run/docker.sock:/var/run/docker.sock:ro \\\n" +
			"  -e WORKSHOP_AGENT_TOKEN=" + tok + " \\\n" +
			"  " + shQuote(image) + " agent --server " + shQuote(serverURL) + "\n"
	}
	return s
}

// ParseChecksums reads a SHA256SUMS file ("HEX  NAME" lines, as sha256sum
// writes them) into checksums by file name.
func ParseChecksums(data []byte) map[string]string {
	sums := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && len(f[0]) == 64 {
			sums[strings.TrimPrefix(f[1], "*")] = f[0]
		}
	}
	return sums
}
