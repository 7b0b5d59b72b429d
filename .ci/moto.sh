#!/usr/bin/env bash
# moto_server for the grader's EC2/STS/IAM tests. The tests start their own
# moto_server processes (grader/awstest), so this only checks that moto is
# installed and can start; it installs nothing and leaves nothing running.
set -euo pipefail

if ! command -v moto_server >/dev/null; then
  echo "moto_server is missing: install moto 5 with its server extra (pip install 'moto[server]')" >&2
  exit 1
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
moto_server -H 127.0.0.1 -p "$port" >/tmp/moto-ci-check.log 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1; then
    echo "moto_server starts and answers (port $port)"
    exit 0
  fi
  sleep 0.2
done
echo "moto_server did not answer within 20 s:" >&2
cat /tmp/moto-ci-check.log >&2
exit 1
