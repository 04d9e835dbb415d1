#!/usr/bin/env bash
# tools/web.sh — what the web page (maps/web) needs to build and to be tested:
# Node.js and npm to install MapLibre GL JS (embedded in the binary) and
# playwright-core, and Debian's Chromium that the browser tests drive.
# Used by `make deps` (so by `make run` and `make test`) and by the build.
#
#   tools/web.sh deps    install the missing Debian packages (root), or print the
#                        command; then the npm packages (see `npm`)
#   tools/web.sh npm     `npm ci` in maps/web when node_modules is missing or
#                        older than package-lock.json (no network needed otherwise)
#
# The commands are checked rather than the package names: a machine may have
# Node.js from another source (its own npm inside), and then Debian's `npm`
# package must not be pulled in beside it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WEB="$ROOT/maps/web"
STAMP="$WEB/node_modules/.lomsong-installed"

die() { echo "web.sh: $*" >&2; exit 1; }

cmd_deps() {
    local missing=()
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" -ne 0 ]; then
            echo "lomsong's web page needs these Debian packages: ${missing[*]}" >&2
            echo "run as root:  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
            exit 1
        fi
        echo "installing: ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2 || true
        # Another apt may hold the lock for a while (tools/db.sh deps, say).
        apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" >&2
    fi
    cmd_npm
}

cmd_npm() {
    command -v npm >/dev/null 2>&1 || die "npm is not installed (run: tools/web.sh deps)"
    if [ -f "$STAMP" ] && [ "$STAMP" -nt "$WEB/package-lock.json" ] \
        && [ "$STAMP" -nt "$WEB/package.json" ]; then
        return 0
    fi
    echo "web.sh: npm ci in maps/web" >&2
    (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error >&2) \
        || die "npm ci failed in maps/web"
    touch "$STAMP"
}

sub=${1:-}; shift || true
case $sub in
    deps) cmd_deps ;;
    npm) cmd_npm ;;
    *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
