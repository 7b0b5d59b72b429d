#!/usr/bin/env bash
# The Docker engine for the grader's tests: installs docker.io when dockerd
# is missing, starts dockerd in the background when no engine answers, waits
# until it does, then builds the local python base images the lab's
# Dockerfiles need (.ci/django-base.sh). Idempotent: an engine that already
# answers is left alone. Assumes apt-get update has run.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v dockerd >/dev/null; then
  echo "docker: installing docker.io"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi

if docker info >/dev/null 2>&1; then
  echo "docker: engine already answers"
else
  echo "docker: starting dockerd (log in /tmp/dockerd.log)"
  nohup dockerd >/tmp/dockerd.log 2>&1 &
  for i in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then
      break
    fi
    if [ "$i" -eq 60 ]; then
      echo "docker: dockerd did not answer within 30 s:" >&2
      tail -n 30 /tmp/dockerd.log >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "docker: engine answers"
fi

bash .ci/django-base.sh
