# Sourced by the test script: a throwaway PostgreSQL cluster for the tests, on a private port.
# Below the ephemeral port range (32768-60999), so no client connection holds it.
PG_TEST_PORT=${PG_TEST_PORT:-25432}
PG_TEST_DIR=${PG_TEST_DIR:-/tmp/gov-assistant-pg-$PG_TEST_PORT}

_pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1; }

_as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_test_postgres() {
  local bin; bin=$(_pg_bin)
  if [ -n "${TEST_POSTGRES_URL:-}" ]; then return 0; fi
  if [ ! -f "$PG_TEST_DIR/PG_VERSION" ]; then
    mkdir -p "$PG_TEST_DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres "$PG_TEST_DIR"
    _as_postgres "$bin/initdb" -D "$PG_TEST_DIR" -A trust -U postgres >/dev/null
  fi
  if _as_postgres "$bin/pg_ctl" -D "$PG_TEST_DIR" status >/dev/null 2>&1; then
    PG_TEST_PORT=$(sed -n 4p "$PG_TEST_DIR/postmaster.pid")
    export TEST_POSTGRES_URL="postgresql+psycopg2://postgres@127.0.0.1:$PG_TEST_PORT/postgres"
    echo "[postgres] reusing the test server on 127.0.0.1:$PG_TEST_PORT"; return 0
  fi
  # The port may be taken for a moment by any local client (it is in the ephemeral
  # range): try it, then a few free ports.
  local attempt
  for attempt in 1 2 3 4; do
    if _as_postgres "$bin/pg_ctl" -D "$PG_TEST_DIR" \
        -o "-p $PG_TEST_PORT -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200" \
        -l "$PG_TEST_DIR/server.log" -w start >/dev/null; then
      break
    fi
    [ "$attempt" = 4 ] && { echo "[postgres] could not start; see $PG_TEST_DIR/server.log" >&2; return 1; }
    PG_TEST_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  done
  export TEST_POSTGRES_URL="postgresql+psycopg2://postgres@127.0.0.1:$PG_TEST_PORT/postgres"
  PG_STARTED_HERE=1
  echo "[postgres] test server on 127.0.0.1:$PG_TEST_PORT"
}

stop_test_postgres() {
  if [ "${PG_STARTED_HERE:-0}" = 1 ]; then
    _as_postgres "$(_pg_bin)/pg_ctl" -D "$PG_TEST_DIR" -m fast -w stop >/dev/null 2>&1 || true
  fi
}
