#!/usr/bin/env bash
# Builds local stand-ins for the official python:3.13-slim and python:3.13
# images, since no registry is reachable from CI. They are Debian bookworm
# (debootstrap) with Python 3 and, instead of PyPI, a local "wheelhouse":
# Django and gunicorn are kept out of sys.path, and a small `pip` installs
# them from there (honouring --prefix), so the lab's Dockerfiles build and
# behave exactly as with the real images: a multi-stage build that forgets
# to copy the installed packages really dies with "No module named 'django'".
# Idempotent: does nothing when the images exist.
set -euo pipefail

if docker image inspect python:3.13-slim >/dev/null 2>&1 && docker image inspect python:3.13 >/dev/null 2>&1; then
  echo "django-base: python:3.13-slim and python:3.13 present"
  exit 0
fi
command -v debootstrap >/dev/null || { apt-get install -y -qq debootstrap >/dev/null; }

root=$(mktemp -d /var/tmp/pybase.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "django-base: debootstrap into $root (about a minute)"
debootstrap --variant=minbase --include=python3,python3-django,python3-gunicorn bookworm "$root" >/tmp/debootstrap.log 2>&1 \
  || { tail -20 /tmp/debootstrap.log; exit 1; }

# Move the packages pip would install out of sys.path, into the wheelhouse.
mkdir -p "$root/opt/wheelhouse"
for p in django gunicorn asgiref sqlparse packaging; do
  for d in "$root"/usr/lib/python3/dist-packages/"$p" "$root"/usr/lib/python3/dist-packages/"$p"-*; do
    [ -e "$d" ] && mv "$d" "$root/opt/wheelhouse/"
  done
done
rm -f "$root/usr/bin/gunicorn"

cat >"$root/usr/local/bin/pip" <<'PIP'
#!/bin/sh
# Offline pip: installs the wheelhouse's packages; honours --prefix.
set -e
if [ "$1" = "list" ]; then
  exec python3 -c 'import importlib.metadata as m; print("Package    Version"); [print(d.metadata["Name"], d.version) for d in sorted(m.distributions(), key=lambda d: d.metadata["Name"].lower())]'
fi
[ "$1" = "install" ] || { echo "pip (offline stand-in): only 'install' and 'list' are supported" >&2; exit 1; }
shift
prefix=/usr/local
cache=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    --no-cache-dir) cache=no; shift ;;
    -r) [ -f "$2" ] || { echo "ERROR: Could not open requirements file: $2" >&2; exit 1; }; shift 2 ;;
    *) shift ;;
  esac
done
pyver=$(python3 -c 'import sys; print("python%d.%d" % sys.version_info[:2])')
dest="$prefix/lib/$pyver/dist-packages"
mkdir -p "$dest" "$prefix/bin"
cp -a /opt/wheelhouse/. "$dest/"
# Like real pip, keep a copy of what it fetched in its cache unless told not to.
[ "$cache" = no ] || { mkdir -p /root/.cache/pip/wheels; cp -a /opt/wheelhouse/. /root/.cache/pip/wheels/; }
printf '#!/usr/bin/python3\nimport sys\nfrom gunicorn.app.wsgiapp import run\nsys.exit(run())\n' >"$prefix/bin/gunicorn"
chmod +x "$prefix/bin/gunicorn"
echo "Successfully installed Django gunicorn (offline wheelhouse) into $dest"
PIP
chmod +x "$root/usr/local/bin/pip"
ln -sf /usr/bin/python3 "$root/usr/local/bin/python"
ln -sf pip "$root/usr/local/bin/pip3"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV PYTHONUNBUFFERED=1' \
  -c 'CMD ["python3"]' - python:3.13-slim >/dev/null
docker tag python:3.13-slim python:3.13
echo "django-base: built python:3.13-slim and python:3.13 (local stand-ins)"
