#!/usr/bin/env bash
# Sets up everything the project needs on a Debian machine. Safe to run again: it only adds what is missing.
#   scripts/bootstrap.sh          what `make run` needs (runtime packages only)
#   scripts/bootstrap.sh --test   plus the test tools, Chromium and PostgreSQL for `make test`
#   scripts/bootstrap.sh --load   plus Locust, nginx and the Node.js load generator for `make loadtest`
# Installer output goes to var/log/setup.log; it is shown in full only when a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var/log
LOG=var/log/setup.log
: > "$LOG"

want_test=0; want_load=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --load) want_load=1 ;;
  esac
done

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Runs a step quietly: its output goes to the log, which is printed only if the step fails.
quiet() {
  if ! "$@" >>"$LOG" 2>&1; then
    echo "Lỗi khi cài đặt / set-up failed: $*" >&2
    echo "----- $LOG -----" >&2
    cat "$LOG" >&2
    exit 1
  fi
}

# --- system packages (Debian) ------------------------------------------------
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v python3 >/dev/null || missing+=(python3 python3-venv)
command -v npm >/dev/null || missing+=(npm)
# WeasyPrint (the PDF winners list) draws text with pango; the printout's font is DejaVu (Vietnamese diacritics).
compgen -G '/usr/lib/*/libpangoft2-1.0.so.0' >/dev/null || missing+=(libpango-1.0-0 libpangoft2-1.0-0)  # Debian's multiarch path
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf ] || missing+=(fonts-dejavu-core)
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
    quiet apt-get update -q
    quiet apt-get install -y -q --no-install-recommends "${missing[@]}"
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
  quiet "$PY" -m venv .venv
fi
# `make run` installs the runtime only; the test and load extras come with `make test` / `make loadtest`.
extras=""
[ "$want_test" = 1 ] && extras="test"
[ "$want_load" = 1 ] && extras="${extras:+$extras,}load"
hash=$(sha1sum pyproject.toml | cut -c1-12)
installed=$(cat ".venv/.installed-$hash" 2>/dev/null || echo "none")
need=0
[ "$installed" = "none" ] && need=1
for extra in ${extras//,/ }; do
  case ",$installed," in *",$extra,"*) ;; *) need=1 ;; esac
done
if [ "$need" = 1 ]; then
  # Keep what an earlier run installed for this pyproject.toml (make test after make run keeps both).
  if [ "$installed" != "none" ]; then
    for extra in ${installed//,/ }; do
      case ",$extras," in *",$extra,"*) ;; *) extras="${extras:+$extras,}$extra" ;; esac
    done
  fi
  say "Cài thư viện Python / installing Python packages${extras:+ ($extras)} — log: $LOG"
  export PIP_DISABLE_PIP_VERSION_CHECK=1
  quiet .venv/bin/pip install -q --upgrade pip
  quiet .venv/bin/pip install -q -e ".${extras:+[$extras]}"
  rm -f .venv/.installed-*
  echo "$extras" > ".venv/.installed-$hash"
fi

# --- translations ------------------------------------------------------------
quiet .venv/bin/pybabel compile -d contest/translations

# --- Socket.IO browser client from the npm registry (not committed) ----------
SIO_VERSION=4.8.1
if [ ! -f static/vendor/socket.io.min.js ] || ! grep -q "$SIO_VERSION" static/vendor/.socket.io-version 2>/dev/null; then
  say "Tải socket.io-client $SIO_VERSION từ npm / fetching socket.io-client from npm"
  tmp=$(mktemp -d)
  quiet bash -c "cd '$tmp' && npm pack --silent 'socket.io-client@$SIO_VERSION' && tar xzf socket.io-client-*.tgz"
  mkdir -p static/vendor
  cp "$tmp/package/dist/socket.io.min.js" static/vendor/socket.io.min.js
  echo "$SIO_VERSION" > static/vendor/.socket.io-version
  rm -rf "$tmp"
fi

# --- axe-core for the browser tests' accessibility checks (npm registry; not committed, not served) --
AXE_VERSION=4.14.1
if [ ! -f var/vendor/axe.min.js ] || ! grep -q "$AXE_VERSION" var/vendor/.axe-core-version 2>/dev/null; then
  say "Tải axe-core $AXE_VERSION từ npm / fetching axe-core from npm"
  tmp=$(mktemp -d)
  quiet bash -c "cd '$tmp' && npm pack --silent 'axe-core@$AXE_VERSION' && tar xzf axe-core-*.tgz"
  mkdir -p var/vendor
  cp "$tmp/package/axe.min.js" var/vendor/axe.min.js
  echo "$AXE_VERSION" > var/vendor/.axe-core-version
  rm -rf "$tmp"
fi

# --- the Node.js load generator (make loadtest GENERATOR=node), versions pinned by its package-lock.json ---
if [ "$want_load" = 1 ]; then
  lock=loadtests/node/package-lock.json
  if [ ! -f loadtests/node/node_modules/.installed ] || ! cmp -s "$lock" loadtests/node/node_modules/.installed; then
    say "Cài bộ sinh tải Node.js / installing the Node.js load generator from npm"
    quiet bash -c "cd loadtests/node && npm ci --no-audit --no-fund --silent"
    cp "$lock" loadtests/node/node_modules/.installed
  fi
fi

mkdir -p var
say "Sẵn sàng / ready"
