#!/bin/sh
# Installs the workshop agent, which gives the course server read-only access
# to this host's Docker engine, as a systemd service:
#
#   curl -fsSL SERVER/agent/install.sh | sudo sh -s -- --token TOKEN
#
# It downloads the agent for this machine from the course server, checks it
# against the server's SHA256SUMS, installs it as /usr/local/bin/workshop,
# runs it as the workshop-agent user (in the docker group) and starts it.
# Remove it with:
#   sudo systemctl disable --now workshop-agent
#   sudo rm /etc/systemd/system/workshop-agent.service /etc/workshop-agent.env /usr/local/bin/workshop
#   sudo userdel workshop-agent
#
# With --docker it runs the same verified binary as a container instead: it
# builds a local image holding only that binary (no registry involved) and
# starts it with the Docker socket mounted, restarting with Docker. Remove it
# with:
#   sudo docker rm -f workshop-agent && sudo docker rmi workshop-agent:local
#   sudo rm /etc/workshop-agent.env /usr/local/bin/workshop
set -eu

# Filled in by the course server when it serves this script.
SERVER_URL='__WORKSHOP_SERVER_URL__'

TOKEN=${WORKSHOP_AGENT_TOKEN:-}
ROOT=""
START=1
MODE=systemd

die() {
	printf 'install.sh: %s\n' "$*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	--token)
		[ $# -ge 2 ] || die "--token needs a value"
		TOKEN=$2
		shift 2
		;;
	--token=*) TOKEN=${1#--token=} && shift ;;
	--root)
		[ $# -ge 2 ] || die "--root needs a value"
		ROOT=$2
		shift 2
		;;
	--no-start) START=0 && shift ;;
	--docker) MODE=docker && shift ;;
	*) die "unknown option: $1 (usage: sh install.sh --token TOKEN [--docker] [--no-start])" ;;
	esac
done

[ -n "$TOKEN" ] || die "pass --token TOKEN (copy it from the course's target page)"
case $TOKEN in *[!A-Za-z0-9_.-]*) die "the token has unexpected characters; copy it again from the target page" ;; esac
if [ -n "$ROOT" ] && [ "$MODE" = systemd ]; then
	# Tests install into a folder: no user, no service.
	START=0
elif [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then
	die "run it as root: curl -fsSL $SERVER_URL/agent/install.sh | sudo sh -s -- --token TOKEN"
fi

case $(uname -m) in
x86_64 | amd64) ARCH=amd64 ;;
aarch64 | arm64) ARCH=arm64 ;;
*) die "no agent build for $(uname -m); the course server offers linux amd64 and arm64" ;;
esac
command -v curl >/dev/null 2>&1 || die "curl is missing: sudo apt-get install -y curl (or: sudo dnf install -y curl)"
command -v sha256sum >/dev/null 2>&1 || die "sha256sum is missing (coreutils)"
if [ "$MODE" = docker ]; then
	command -v docker >/dev/null 2>&1 || die "the docker command is missing: install Docker first"
	docker info >/dev/null 2>&1 || die "Docker does not answer (docker info failed): start it with sudo systemctl start docker"
	[ -S /var/run/docker.sock ] || die "there is no /var/run/docker.sock: the agent talks to Docker through it"
	[ -d /etc/ssl/certs ] || die "there is no /etc/ssl/certs: install the CA certificates (sudo apt-get install -y ca-certificates, or sudo dnf install -y ca-certificates)"
elif [ -z "$ROOT" ]; then
	getent group docker >/dev/null 2>&1 || die "there is no docker group: install Docker first"
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
FILE=workshop-linux-$ARCH
echo "Downloading $SERVER_URL/downloads/$FILE ..."
curl -fsSL -o "$WORK/$FILE" "$SERVER_URL/downloads/$FILE"
curl -fsSL -o "$WORK/SHA256SUMS" "$SERVER_URL/downloads/SHA256SUMS"
WANT=$(awk -v f="$FILE" '$2 == f || $2 == "*" f { print $1 }' "$WORK/SHA256SUMS")
[ -n "$WANT" ] || die "SHA256SUMS lists no $FILE"
GOT=$(sha256sum "$WORK/$FILE" | awk '{ print $1 }')
[ "$GOT" = "$WANT" ] || die "checksum mismatch for $FILE (got $GOT, want $WANT): nothing installed"
echo "Checksum verified: $GOT"

mkdir -p "$ROOT/usr/local/bin" "$ROOT/etc"
install -m 0755 "$WORK/$FILE" "$ROOT/usr/local/bin/workshop"
echo "Installed $ROOT/usr/local/bin/workshop"

# The token lives in a root-only file, not in the unit, the container's
# command line or the process list.
(
	umask 077
	printf 'WORKSHOP_AGENT_TOKEN=%s\n' "$TOKEN" >"$ROOT/etc/workshop-agent.env"
)
chmod 0600 "$ROOT/etc/workshop-agent.env"
echo "Wrote $ROOT/etc/workshop-agent.env"

if [ "$MODE" = docker ]; then
	# An image with nothing but the verified binary, built here.
	mkdir "$WORK/image"
	install -m 0755 "$WORK/$FILE" "$WORK/image/workshop"
	printf 'FROM scratch\nCOPY workshop /workshop\nENTRYPOINT ["/workshop"]\n' >"$WORK/image/Dockerfile"
	docker build -q -t workshop-agent:local "$WORK/image" >/dev/null
	echo "Built the image workshop-agent:local (the agent binary only)"
	if [ "$START" -eq 1 ]; then
		docker rm -f workshop-agent >/dev/null 2>&1 || true
		# Not root inside: an unprivileged user in the socket's group. The
		# host's CA certificates let it check the course server's TLS.
		# --network host: it only connects out, to the course server.
		docker run -d --name workshop-agent --restart unless-stopped \
			--read-only --cap-drop ALL --security-opt no-new-privileges \
			--user 65534:65534 --group-add "$(stat -c %g /var/run/docker.sock)" \
			--network host \
			-v /var/run/docker.sock:/var/run/docker.sock:ro \
			-v /etc/ssl/certs:/etc/ssl/certs:ro \
			--env-file "$ROOT/etc/workshop-agent.env" \
			workshop-agent:local agent --server "$SERVER_URL" >/dev/null
		echo "The agent runs as the container workshop-agent. Its log: sudo docker logs -f workshop-agent"
		echo "The course's target page shows it as connected within a few seconds."
	fi
	exit 0
fi

mkdir -p "$ROOT/etc/systemd/system"
if [ -z "$ROOT" ]; then
	if id workshop-agent >/dev/null 2>&1; then
		usermod -a -G docker workshop-agent
	else
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --groups docker workshop-agent
		echo "Created the system user workshop-agent (group docker)"
	fi
fi

cat >"$ROOT/etc/systemd/system/workshop-agent.service" <<'UNIT'
__WORKSHOP_SYSTEMD_UNIT__
UNIT
echo "Wrote $ROOT/etc/systemd/system/workshop-agent.service"

if [ "$START" -eq 1 ]; then
	systemctl daemon-reload
	systemctl enable workshop-agent >/dev/null 2>&1
	# restart, not start: a reinstall picks up a new binary and token.
	systemctl restart workshop-agent
	echo "The agent is running. Its log: journalctl -u workshop-agent -f"
	echo "The course's target page shows it as connected within a few seconds."
fi
