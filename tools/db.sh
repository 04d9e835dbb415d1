#!/usr/bin/env bash
# tools/db.sh — the project-local PostgreSQL 15 + PostGIS cluster, and the
# Debian packages lomsong needs.  Used by `make run`, `make db`, `make test`
# and by the tests themselves (to stop and restart the database).
#
#   tools/db.sh deps                 install missing Debian packages (root), or print the command
#   tools/db.sh start NAME [--fresh] create (or reuse) and start cluster NAME under .run/NAME
#   tools/db.sh stop NAME            stop it (fast shutdown)
#   tools/db.sh status NAME          exit 0 when it runs
#   tools/db.sh destroy NAME         stop it and delete its files
#   tools/db.sh createdb NAME DB     (re)create an empty database DB with the extensions
#   tools/db.sh conninfo NAME ROLE [DB]  print the libpq conninfo for ROLE (owner|app|super)
#   tools/db.sh psql NAME [ARGS...]  psql as the owner role
#
# PostgreSQL refuses to run as root, so as root the cluster is initialised and
# run by the `postgres` system user.  That user must be able to reach the data
# directory: when the checkout is not reachable for it (a clone under a 0700
# home directory) or the socket path would be too long for a Unix socket, the
# cluster lives under /var/tmp/lomsong-<hash>/NAME and .run/NAME is a symlink.
# The cluster listens on its Unix socket only (no TCP), with a 0700 socket.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PORT=5432

PACKAGES="build-essential pkg-config postgresql-15 postgresql-15-postgis-3 postgresql-client-15
 libpq-dev libgdal-dev gdal-bin libproj-dev proj-bin proj-data libmicrohttpd-dev libcjson-dev
 libssl-dev libcurl4-openssl-dev zlib1g-dev clang-format"

die() { echo "db.sh: $*" >&2; exit 1; }

cmd_deps() {
    local missing=()
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "lomsong needs these Debian packages: ${missing[*]}" >&2
        echo "run as root:  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
    echo "installing: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    # The package lists of a fresh image may be missing or stale.
    apt-get update -qq >&2 || true
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    # The Debian package starts its own cluster on 5432; ours uses a socket
    # of its own and does not need it, but it does no harm either.
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# Runs a command as the cluster's system user.
as_pg() {
    if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

super_user() { if is_root; then echo postgres; else id -un; fi; }

# Resolves the cluster directory for NAME, creating the symlink fallback.
cluster_dir() {
    local name=$1 link="$ROOT/.run/$name"
    mkdir -p "$ROOT/.run"
    if [ -L "$link" ]; then readlink -f "$link"; return; fi
    if [ -d "$link" ]; then echo "$link"; return; fi
    local reachable=1
    if is_root; then
        chmod 0755 "$ROOT/.run" 2>/dev/null || true
        runuser -u postgres -- test -x "$ROOT/.run" 2>/dev/null || reachable=0
    fi
    # sun_path holds 107 bytes: <dir>/sock/.s.PGSQL.5432 must fit.
    [ $(( ${#link} + 20 )) -lt 100 ] || reachable=0
    if [ $reachable -eq 1 ]; then
        mkdir -p "$link"
        echo "$link"
    else
        local hash
        hash=$(printf '%s' "$ROOT" | sha1sum | cut -c1-12)
        local real="/var/tmp/lomsong-$hash/$name"
        mkdir -p "$real"
        chmod 0755 "/var/tmp/lomsong-$hash"
        ln -sfn "$real" "$link"
        echo "$real"
    fi
}

pg_running() {
    local dir=$1
    [ -f "$dir/data/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

psql_super() {
    local dir=$1; shift
    as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/sock" -p $PORT -U "$(super_user)" "$@"
}

bootstrap_db() {
    local dir=$1 db=$2
    psql_super "$dir" -d postgres <<SQL
SET client_min_messages = warning;
DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lomsong_owner') THEN
        CREATE ROLE lomsong_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lomsong_app') THEN
        CREATE ROLE lomsong_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
END \$\$;
SELECT format('CREATE DATABASE %I OWNER lomsong_owner', '$db')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$db')\gexec
SQL
    psql_super "$dir" -d "$db" <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS btree_gist;
SQL
}

cmd_start() {
    local name=${1:?cluster name}; local fresh=${2:-}
    local dir
    [ "$fresh" = "--fresh" ] && cmd_destroy "$name" >/dev/null 2>&1 || true
    dir=$(cluster_dir "$name")
    [ -x "$PG_BIN/initdb" ] || die "PostgreSQL 15 is not installed (run: tools/db.sh deps)"
    if is_root; then chown postgres: "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_pg mkdir -p "$dir/data" "$dir/sock"
        as_pg chmod 0700 "$dir/data"
        # Collation C: codes and keys compare with memcmp (C.UTF-8 goes
        # through strcoll, in the same code-point order but slower); the
        # character classes stay UTF-8 so upper()/lower() know Vietnamese.
        as_pg "$PG_BIN/initdb" -D "$dir/data" -U "$(super_user)" -E UTF8 --locale=C.UTF-8 --lc-collate=C \
            --auth-local=trust --auth-host=reject >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
        local extra=""
        [ "$name" = "dev" ] || extra="fsync = off
synchronous_commit = off
full_page_writes = off"
        as_pg tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF
# lomsong project-local cluster
listen_addresses = ''
port = $PORT
unix_socket_directories = '$dir/sock'
unix_socket_permissions = 0700
max_connections = 200
shared_buffers = 256MB
work_mem = 16MB
maintenance_work_mem = 256MB
max_wal_size = 4GB
jit = off
log_min_messages = warning
log_min_duration_statement = 1000
$extra
CONF
    fi
    if ! pg_running "$dir"; then
        as_pg mkdir -p "$dir/sock"
        as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null \
            || { tail -20 "$dir/postgres.log" >&2; die "could not start the cluster $name"; }
    fi
    bootstrap_db "$dir" lomsong
    echo "$dir"
}

cmd_stop() {
    local name=${1:?cluster name} dir="$ROOT/.run/$1"
    [ -e "$dir" ] || return 0
    dir=$(readlink -f "$dir")
    if pg_running "$dir"; then
        as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    fi
}

cmd_status() {
    local dir="$ROOT/.run/${1:?cluster name}"
    [ -e "$dir" ] && pg_running "$(readlink -f "$dir")"
}

cmd_destroy() {
    local name=${1:?cluster name} link="$ROOT/.run/$1"
    # The fallback place too: a new clone at the same path has no link yet,
    # and must not find the old clone's cluster there.
    local fallback
    fallback="/var/tmp/lomsong-$(printf '%s' "$ROOT" | sha1sum | cut -c1-12)/$name"
    cmd_stop "$name" || true
    if [ -f "$fallback/data/postmaster.pid" ]; then
        as_pg "$PG_BIN/pg_ctl" -D "$fallback/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
    fi
    if [ -L "$link" ]; then rm -rf "$(readlink -f "$link")"; rm -f "$link";
    else rm -rf "$link"; fi
    rm -rf "$fallback"
}

cmd_createdb() {
    local name=${1:?cluster name} db=${2:?database name}
    local dir; dir=$(readlink -f "$ROOT/.run/$name")
    psql_super "$dir" -d postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"
    bootstrap_db "$dir" "$db"
}

cmd_conninfo() {
    local name=${1:?cluster name} role=${2:?role} db=${3:-lomsong}
    local dir; dir=$(readlink -f "$ROOT/.run/$name")
    case $role in
        owner) echo "host=$dir/sock port=$PORT dbname=$db user=lomsong_owner" ;;
        app) echo "host=$dir/sock port=$PORT dbname=$db user=lomsong_app" ;;
        super) echo "host=$dir/sock port=$PORT dbname=$db user=$(super_user)" ;;
        *) die "role must be owner, app or super" ;;
    esac
}

cmd_psql() {
    local name=${1:?cluster name}; shift
    local dir; dir=$(readlink -f "$ROOT/.run/$name")
    exec "$PG_BIN/psql" -h "$dir/sock" -p $PORT -U lomsong_owner -d lomsong "$@"
}

sub=${1:-}; shift || true
case $sub in
    deps) cmd_deps ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    destroy) cmd_destroy "$@" ;;
    createdb) cmd_createdb "$@" ;;
    conninfo) cmd_conninfo "$@" ;;
    psql) cmd_psql "$@" ;;
    *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
