#!/usr/bin/env bash
# Private PostgreSQL and Redis servers for the distributed backend's tests.
#
# Installs them from Debian's packages when missing, starts each on a free loopback
# port with its data in a temporary directory, prints
#
#   SWITCHYARD_TEST_POSTGRES_URL=postgres://…
#   SWITCHYARD_TEST_REDIS_URL=redis://…
#   ready
#
# and keeps them running until its standard input closes (the process that started it
# exits, however it exits), then stops them and deletes their data. scripts/test.sh and
# the Rust test helper (switchyard_testkit::services) both start it this way.
set -euo pipefail

log() { printf 'services: %s\n' "$*" >&2; }
fail() { log "$*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else fail "cannot run '$*': not root and no sudo"
  fi
}

pg_bin=""
find_postgres() {
  local dir
  for dir in "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")" \
             /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then pg_bin="$dir"; return 0; fi
  done
  return 1
}

install_missing() {
  local missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  find_postgres || missing+=(postgresql)
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 ||
    fail "${missing[*]} missing and no apt-get to install them with"
  log "installing ${missing[*]} from Debian's packages"
  # Only the binaries are wanted: no cluster of the package's own on port 5432.
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    as_root mkdir -p /etc/postgresql-common
    echo 'create_main_cluster = false' | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
  fi
  as_root apt-get update -qq >&2 || fail "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2 || fail "installing ${missing[*]} failed"
  command -v redis-server >/dev/null 2>&1 || fail "redis-server is still missing after installing it"
  find_postgres || fail "PostgreSQL's initdb is still missing after installing it"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

install_missing

dir="$(mktemp -d -t switchyard-services.XXXXXX)"
chmod 755 "$dir"
redis_pid=""
pg_started=""

# PostgreSQL will not run as root: then it runs as the package's `postgres` user.
pg_user="$(id -un)"
if [ "$(id -u)" -eq 0 ]; then
  pg_user=postgres
  id "$pg_user" >/dev/null 2>&1 || useradd --system --no-create-home "$pg_user"
fi
as_pg() {
  if [ "$(id -un)" = "$pg_user" ]; then "$@"; else runuser -u "$pg_user" -- "$@"; fi
}

cleanup() {
  if [ -n "$pg_started" ]; then
    as_pg "$pg_bin/pg_ctl" -D "$dir/pg" -m immediate stop >/dev/null 2>&1 || true
  fi
  if [ -n "$redis_pid" ]; then
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

mkdir -p "$dir/pg" "$dir/pg-socket" "$dir/redis"
[ "$(id -u)" -eq 0 ] && chown "$pg_user" "$dir/pg" "$dir/pg-socket"

pg_port="$(free_port)"
as_pg "$pg_bin/initdb" -D "$dir/pg" -U switchyard --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; fail "initdb failed"; }
# Throwaway data: durability is traded for speed.
as_pg "$pg_bin/pg_ctl" -D "$dir/pg" -l "$dir/pg-socket/postgres.log" -w -t 60 start -o \
  "-p $pg_port -k $dir/pg-socket -c listen_addresses=127.0.0.1 -c max_connections=300 \
   -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null ||
  { cat "$dir/pg-socket/postgres.log" >&2; fail "PostgreSQL did not start"; }
pg_started=1

redis_port="$(free_port)"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$dir/redis" --logfile "$dir/redis/redis.log" &
redis_pid=$!
for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null; then break; fi
  kill -0 "$redis_pid" 2>/dev/null || { cat "$dir/redis/redis.log" >&2; fail "Redis did not start"; }
  sleep 0.1
done

log "PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port"
echo "SWITCHYARD_TEST_POSTGRES_URL=postgres://switchyard@127.0.0.1:$pg_port/postgres"
echo "SWITCHYARD_TEST_REDIS_URL=redis://127.0.0.1:$redis_port"
echo ready

# Until whoever started us is gone (its end of our input closes) or a signal comes: a
# foreground `cat` would hold a signal's trap back until it ended, `wait` does not.
exec 3<&0
cat <&3 >/dev/null &
wait $! || true
