#!/usr/bin/env bash
# Sets up everything the project needs on a Debian machine. Safe to run again: it only adds what is missing.
#   scripts/bootstrap.sh          what `make run` needs
#   scripts/bootstrap.sh --test   plus Chromium and PostgreSQL for `make test`
#   scripts/bootstrap.sh --load   plus nginx for `make loadtest`
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0; want_load=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --load) want_load=1 ;;
  esac
done

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# --- system packages (Debian) ------------------------------------------------
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v python3 >/dev/null || missing+=(python3 python3-venv)
command -v npm >/dev/null || missing+=(npm)
if [ "$want_test" = 1 ]; then
  command -v chromium >/dev/null || missing+=(chromium fonts-noto-core)
  if ! command -v pg_ctl >/dev/null && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    missing+=(postgresql)
  fi
fi
if [ "$want_load" = 1 ]; then
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "Cài gói hệ thống / installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Thiếu gói hệ thống / missing Debian packages: ${missing[*]}" >&2
    echo "Chạy / run: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# The test harness runs throwaway PostgreSQL clusters as the 'postgres' user (PostgreSQL refuses root).
if [ "$want_test" = 1 ] && [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin postgres
fi

# --- Python environment ------------------------------------------------------
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  say "Tạo môi trường ảo / creating .venv"
  "$PY" -m venv .venv
fi
extras="test"
[ "$want_load" = 1 ] && extras="test,load"
stamp=".venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)-$extras"
if [ ! -f "$stamp" ]; then
  say "Cài thư viện Python / installing Python packages ($extras)"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".[$extras]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# --- translations ------------------------------------------------------------
.venv/bin/pybabel compile -d contest/translations >/dev/null

# --- Socket.IO browser client from the npm registry (not committed) ----------
SIO_VERSION=4.8.1
if [ ! -f static/vendor/socket.io.min.js ] || ! grep -q "$SIO_VERSION" static/vendor/.socket.io-version 2>/dev/null; then
  say "Tải socket.io-client $SIO_VERSION từ npm / fetching socket.io-client from npm"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "socket.io-client@$SIO_VERSION" >/dev/null && tar xzf socket.io-client-*.tgz)
  mkdir -p static/vendor
  cp "$tmp/package/dist/socket.io.min.js" static/vendor/socket.io.min.js
  echo "$SIO_VERSION" > static/vendor/.socket.io-version
  rm -rf "$tmp"
fi

mkdir -p var
say "Sẵn sàng / ready"
