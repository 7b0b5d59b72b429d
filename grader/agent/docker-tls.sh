#!/bin/sh
# docker-tls.sh: let the workshop course server reach this host's Docker
# Engine API directly, over TLS with client certificates.
#
#   sudo sh docker-tls.sh            set up (or refresh) TLS on port 2376
#   sudo sh docker-tls.sh --undo     put everything back as it was
#
# It makes a private CA, a server certificate for this instance (its public
# IP and DNS name from the EC2 instance metadata, IMDSv2) and a client
# certificate for the course server, writes them to /etc/docker/tls, adds a
# systemd drop-in that makes dockerd also listen on tcp://0.0.0.0:2376 with
# --tlsverify (the local socket keeps working), restarts Docker, and hands
# the client bundle to the course server. Every change is printed, and
# recorded so that --undo can revert it. Running it again keeps the
# certificates (the server certificate is renewed when the instance's
# address changed); --renew makes all of them anew.
#
# The agent (workshop agent) needs no open port and no certificate: prefer
# it when you can.
set -eu

# Filled in by the course server when it serves this script.
SERVER_URL='__WORKSHOP_SERVER_URL__'
UPLOAD_URL='__WORKSHOP_UPLOAD_URL__'

PORT=2376
ROOT=""
IP=""
DNS=""
RESTART=1
RENEW=0
UNDO=0

usage() {
	cat <<EOF
usage: sudo sh docker-tls.sh [--ip ADDRESS] [--dns NAME] [--renew] [--no-restart] [--undo]

  --ip ADDRESS   the address the course server uses to reach this host
                 (default: the instance's public IPv4 from the instance metadata)
  --dns NAME     also name NAME in the server certificate
                 (default: the instance's public DNS name, when --ip is not given)
  --renew        make a new CA and new certificates even if they exist
  --no-restart   change the files but do not restart Docker
  --undo         remove what this script added and restore what it replaced
  --root DIR     work under DIR instead of / (for tests; implies --no-restart)
EOF
}

say() { printf '%s\n' "$*"; }
change() { printf '  changed: %s\n' "$*"; }
die() {
	printf 'docker-tls.sh: %s\n' "$*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	--ip | --dns | --root)
		[ $# -ge 2 ] || die "$1 needs a value"
		case $1 in
		--ip) IP=$2 ;;
		--dns) DNS=$2 ;;
		--root) ROOT=$2 ;;
		esac
		shift 2
		;;
	--ip=*) IP=${1#--ip=} && shift ;;
	--dns=*) DNS=${1#--dns=} && shift ;;
	--root=*) ROOT=${1#--root=} && shift ;;
	--renew) RENEW=1 && shift ;;
	--no-restart) RESTART=0 && shift ;;
	--undo) UNDO=1 && shift ;;
	-h | --help) usage && exit 0 ;;
	*) usage >&2 && die "unknown option: $1" ;;
	esac
done

# Values end up in an openssl configuration and a systemd unit: accept
# only what an address or a host name can contain.
case $IP in *[!0-9a-fA-F.:]*) die "--ip $IP is not an IP address" ;; esac
case $DNS in *[!A-Za-z0-9.-]*) die "--dns $DNS is not a host name" ;; esac
case $ROOT in *[!A-Za-z0-9._/-]*) die "--root must be a plain path" ;; esac
case $SERVER_URL in __WORKSHOP_*) SERVER_URL="" ;; esac
case $UPLOAD_URL in __WORKSHOP_*) UPLOAD_URL="" ;; esac

if [ -n "$ROOT" ]; then
	RESTART=0
elif [ "$(id -u)" -ne 0 ]; then
	die "run it as root: sudo sh docker-tls.sh"
fi

# Paths as dockerd sees them, and where this run writes them.
TLS_REAL=/etc/docker/tls
TLS_DIR=$ROOT$TLS_REAL
DROPIN_DIR=$ROOT/etc/systemd/system/docker.service.d
DROPIN=$DROPIN_DIR/workshop-tls.conf
DAEMON_JSON=$ROOT/etc/docker/daemon.json
STATE_DIR=$ROOT/var/lib/workshop-docker-tls
MANIFEST=$STATE_DIR/manifest

# The manifest has one line per change, "created PATH", "backup PATH COPY"
# or "mkdir DIR", in the order made; --undo reverts it from the end.
record() { printf '%s\n' "$*" >>"$MANIFEST"; }

recorded() {
	[ -f "$MANIFEST" ] && awk -v p="$1" '$2 == p { found = 1 } END { exit !found }' "$MANIFEST"
}

missing_dirs() {
	_d=$1
	_out=""
	while [ ! -d "$_d" ]; do
		_out="$_d $_out"
		_d=$(dirname "$_d")
	done
	printf '%s' "$_out"
}

# make_dir DIR MODE creates DIR and its missing parents, recording each.
make_dir() {
	_new=$(missing_dirs "$1")
	[ -n "$_new" ] || return 0
	# Parents get the usual 0755 whatever the umask; the state directory
	# holds the manifest, so each creation is recorded once it exists.
	for _m in $_new; do
		mkdir "$_m"
		chmod 0755 "$_m"
	done
	chmod "$2" "$1"
	for _m in $_new; do
		record "mkdir $_m"
		change "created directory $_m"
	done
}

# install_file SRC DEST MODE puts SRC at DEST, backing up a DEST this script
# did not create, and says so; an identical DEST is left alone.
install_file() {
	if [ -f "$2" ] && cmp -s "$1" "$2"; then
		say "  unchanged: $2"
		return 0
	fi
	if ! recorded "$2"; then
		if [ -e "$2" ]; then
			_copy=$STATE_DIR/backup$(printf '%s' "$2" | tr '/' '_')
			cp -p "$2" "$_copy"
			record "backup $2 $_copy"
			change "backed up $2 to $_copy"
		else
			record "created $2"
		fi
	fi
	cp "$1" "$2"
	chmod "$3" "$2"
	change "wrote $2"
}

restart_docker() {
	if [ "$RESTART" -eq 0 ]; then
		say "Docker not restarted (--no-restart): run 'sudo systemctl daemon-reload && sudo systemctl restart docker'"
		return 0
	fi
	say "Restarting Docker..."
	systemctl daemon-reload
	if systemctl restart docker && systemctl is-active --quiet docker; then
		change "restarted Docker"
		return 0
	fi
	return 1
}

undo() {
	if [ ! -f "$MANIFEST" ]; then
		say "Nothing to undo: $MANIFEST does not exist."
		return 0
	fi
	say "Undoing the changes recorded in $MANIFEST:"
	_lines=$(awk '{ l[NR] = $0 } END { for (i = NR; i > 0; i--) print l[i] }' "$MANIFEST")
	rm -f "$MANIFEST"
	while read -r _act _path _copy; do
		case $_act in
		created)
			rm -f "$_path"
			change "removed $_path"
			;;
		backup)
			mv -f "$_copy" "$_path"
			change "restored $_path"
			;;
		mkdir)
			if rmdir "$_path" 2>/dev/null; then
				change "removed directory $_path"
			else
				say "  kept $_path (not empty)"
			fi
			;;
		esac
	done <<EOF
$_lines
EOF
	restart_docker || die "Docker did not restart; see: journalctl -u docker"
}

if [ "$UNDO" -eq 1 ]; then
	undo
	exit 0
fi

command -v openssl >/dev/null 2>&1 || die "openssl is missing: sudo apt-get install -y openssl (or: sudo dnf install -y openssl)"

# dockerd refuses to start when "hosts" is set both in daemon.json and on
# its command line; stop before changing anything.
if [ -f "$DAEMON_JSON" ] && grep -q '"hosts"' "$DAEMON_JSON"; then
	die "$DAEMON_JSON sets \"hosts\", which conflicts with the -H flags this script adds; remove that key first"
fi

imds() {
	command -v curl >/dev/null 2>&1 || return 1
	_tok=$(curl -fsS -m 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token 2>/dev/null) || return 1
	curl -fsS -m 2 -H "X-aws-ec2-metadata-token: $_tok" "http://169.254.169.254/latest/meta-data/$1" 2>/dev/null
}

if [ -z "$IP" ]; then
	IP=$(imds public-ipv4) || die "could not read this instance's public IP from the instance metadata (IMDSv2); pass it with --ip ADDRESS"
	[ -n "$DNS" ] || DNS=$(imds public-hostname) || DNS=""
	case $IP in '' | *[!0-9.]*) die "the instance metadata gave no usable public IP ('$IP'); pass --ip ADDRESS" ;; esac
	case $DNS in *[!A-Za-z0-9.-]*) DNS="" ;; esac
fi
say "Setting up TLS for the Docker API on $IP${DNS:+ ($DNS)}, port $PORT."

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
umask 077

make_dir "$STATE_DIR" 0700
make_dir "$TLS_DIR" 0700

SANS="IP:$IP"
[ "$IP" = 127.0.0.1 ] || SANS="$SANS, IP:127.0.0.1"
[ -z "$DNS" ] || SANS="$SANS, DNS:$DNS"
cat >"$WORK/openssl.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = workshop
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $SANS
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
EOF

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# sign NAME CN EXT: a certificate for a new key, signed by the CA in $CA_DIR.
sign() {
	newkey "$WORK/$1-key.pem"
	openssl req -new -config "$WORK/openssl.cnf" -key "$WORK/$1-key.pem" -subj "/CN=$2" -out "$WORK/$1.csr"
	openssl x509 -req -in "$WORK/$1.csr" -CA "$CA_DIR/ca.pem" -CAkey "$CA_DIR/ca-key.pem" \
		-set_serial "0x$(openssl rand -hex 16)" -days 825 -sha256 \
		-extfile "$WORK/openssl.cnf" -extensions "$3" -out "$WORK/$1-cert.pem" 2>/dev/null
}

# covers CERT: does the server certificate name this run's address and name?
covers() {
	_san=$(openssl x509 -in "$1" -noout -text | tr ',' '\n' | sed 's/^ *//')
	printf '%s\n' "$_san" | grep -qxF "IP Address:$IP" || return 1
	[ -z "$DNS" ] || printf '%s\n' "$_san" | grep -qxF "DNS:$DNS"
}

CHANGED=0
CA_DIR=$TLS_DIR
if [ "$RENEW" -eq 1 ] || [ ! -f "$TLS_DIR/ca.pem" ] || [ ! -f "$TLS_DIR/ca-key.pem" ] ||
	[ ! -f "$TLS_DIR/cert.pem" ] || [ ! -f "$TLS_DIR/key.pem" ]; then
	say "Making a new certificate authority and a client certificate for the course server..."
	CA_DIR=$WORK
	newkey "$WORK/ca-key.pem"
	openssl req -new -x509 -config "$WORK/openssl.cnf" -extensions ca_ext -key "$WORK/ca-key.pem" \
		-subj "/CN=workshop Docker CA for $IP" -days 3650 -sha256 -out "$WORK/ca.pem"
	sign client "workshop course server" client_ext
	install_file "$WORK/ca.pem" "$TLS_DIR/ca.pem" 0644
	install_file "$WORK/ca-key.pem" "$TLS_DIR/ca-key.pem" 0600
	install_file "$WORK/client-cert.pem" "$TLS_DIR/cert.pem" 0644
	install_file "$WORK/client-key.pem" "$TLS_DIR/key.pem" 0600
	CHANGED=1
else
	say "  kept: the CA and client certificate in $TLS_DIR (--renew makes new ones)"
fi
if [ "$CHANGED" -eq 1 ] || [ ! -f "$TLS_DIR/server-cert.pem" ] || [ ! -f "$TLS_DIR/server-key.pem" ] ||
	! covers "$TLS_DIR/server-cert.pem"; then
	say "Making a server certificate for $SANS..."
	sign server "$IP" server_ext
	install_file "$WORK/server-cert.pem" "$TLS_DIR/server-cert.pem" 0644
	install_file "$WORK/server-key.pem" "$TLS_DIR/server-key.pem" 0600
	CHANGED=1
else
	say "  kept: the server certificate, which already names $IP"
fi

DOCKERD=$(command -v dockerd 2>/dev/null || printf /usr/bin/dockerd)
cat >"$WORK/dropin.conf" <<EOF
# Added by the workshop's docker-tls.sh; revert with: sudo sh docker-tls.sh --undo
# The empty ExecStart= clears the packaged command line; -H fd:// keeps the
# local socket working.
[Service]
ExecStart=
ExecStart=$DOCKERD -H fd:// -H tcp://0.0.0.0:$PORT --tlsverify --tlscacert=$TLS_REAL/ca.pem --tlscert=$TLS_REAL/server-cert.pem --tlskey=$TLS_REAL/server-key.pem --containerd=/run/containerd/containerd.sock
EOF
make_dir "$DROPIN_DIR" 0755
if [ -f "$DROPIN" ] && cmp -s "$WORK/dropin.conf" "$DROPIN"; then
	say "  unchanged: $DROPIN"
else
	install_file "$WORK/dropin.conf" "$DROPIN" 0644
	CHANGED=1
fi

if [ "$CHANGED" -eq 1 ]; then
	if ! restart_docker; then
		say "Docker did not start with the new settings; undoing them (details: journalctl -u docker)."
		undo
		exit 1
	fi
else
	say "Nothing changed; Docker keeps running as it is."
fi

print_bundle() {
	say "Paste these three files into the Docker host form of the course's target page:"
	for _f in ca.pem cert.pem key.pem; do
		say "----- $_f -----"
		cat "$TLS_DIR/$_f"
	done
	say "----- end -----"
}

HOST=${DNS:-$IP}
case $HOST in *:*) HOST="[$HOST]" ;; esac
ENDPOINT="tcp://$HOST:$PORT"
if [ -n "$UPLOAD_URL" ] && command -v curl >/dev/null 2>&1; then
	if curl -fsS -m 20 -X POST -F "endpoint=$ENDPOINT" -F "ca=@$TLS_DIR/ca.pem" \
		-F "cert=@$TLS_DIR/cert.pem" -F "key=@$TLS_DIR/key.pem" "$UPLOAD_URL" >/dev/null; then
		say "Uploaded the client certificate to the course server for $ENDPOINT."
	else
		say "The upload failed (the upload link is short-lived: reload the target page for a new one)."
		print_bundle
	fi
else
	say "Docker endpoint: $ENDPOINT"
	print_bundle
fi

SERVER_HOST=${SERVER_URL#*://}
SERVER_HOST=${SERVER_HOST%%/*}
SERVER_HOST=${SERVER_HOST%:*}
SERVER_IP=""
if [ -n "$SERVER_HOST" ]; then
	SERVER_IP=$(getent ahostsv4 "$SERVER_HOST" 2>/dev/null | awk 'NR == 1 { print $1 }') || SERVER_IP=""
fi
say ""
say "Last step: open port $PORT to the course server ONLY."
say "In the EC2 console, add one inbound rule to this instance's security group:"
if [ -n "$SERVER_IP" ]; then
	say "  Type: Custom TCP   Port: $PORT   Source: $SERVER_IP/32   (the course server, $SERVER_HOST)"
else
	say "  Type: Custom TCP   Port: $PORT   Source: the course server's address/32${SERVER_HOST:+ ($SERVER_HOST)}"
fi
say "Never use 0.0.0.0/0 for this port: the Docker API is root on this host, and the course's"
say "security-group check fails when $PORT is open to the world."
