# shellcheck shell=bash
# A throwaway PostgreSQL cluster for the Rust tests (issue 5: "nothing is skipped
# because PostgreSQL is absent").
#
#   ensure_postgres     inside a step (a subshell): installs PostgreSQL from Debian's
#                       packages when initdb/pg_ctl are missing, starts a fresh cluster
#                       and sets an EXIT trap that stops and deletes it.
#   postgres_start_cluster / postgres_stop_cluster
#                       the same without the trap, for a shell that manages its own
#                       lifetime.
#
# The cluster lives in a temporary directory: data in DIR/data, the unix socket in DIR,
# TCP on a free port of 127.0.0.1 only, trust authentication (nothing else can reach
# it). initdb refuses to run as root, so as root the cluster runs as the `postgres`
# user the Debian package creates.
#
# Durability, SCIMD_POSTGRES_DURABILITY (the benchmark's --postgres-durability):
#   off      (default) fsync, full_page_writes and synchronous_commit off: the data is
#            thrown away, so nothing is paid for keeping it
#   normal   fsync and full_page_writes on, synchronous_commit off: crash-safe, a crash
#            may lose the last moments of commits (what scimd's SQLite does:
#            synchronous=NORMAL in WAL mode)
#   full     PostgreSQL's defaults: every commit waits for its WAL to reach the disk
#
# After a start: SCIMD_TEST_POSTGRES_URL is exported (a superuser URL; the tests create
# one database per test through it). When it is already set, ensure_postgres uses that
# server and starts nothing.

# Seconds pg_ctl waits for the server to accept connections.
readonly POSTGRES_START_TIMEOUT_SECONDS=60

SCIMD_POSTGRES_DIR=""
SCIMD_POSTGRES_BIN=""

postgres_fail() {
  echo "error: $*" >&2
  exit 1
}

# Prints the newest /usr/lib/postgresql/VERSION/bin holding both initdb and pg_ctl.
postgres_bin_dir() {
  local dir
  while read -r dir; do
    if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
      echo "$dir"
      return 0
    fi
  done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r)
  return 1
}

# Installs Debian's postgresql package (sudo when not root).
postgres_install() {
  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || postgres_fail "PostgreSQL is not installed and sudo is missing: install the 'postgresql' package"
    sudo=(sudo)
  fi
  echo "PostgreSQL not found; installing Debian's postgresql package" >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
}

# Runs a PostgreSQL program as the cluster's owner.
postgres_as_owner() {
  if ((EUID == 0)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

postgres_free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

postgres_start_cluster() {
  SCIMD_POSTGRES_BIN=$(postgres_bin_dir) || {
    postgres_install
    SCIMD_POSTGRES_BIN=$(postgres_bin_dir) || postgres_fail "installed postgresql, but found no initdb under /usr/lib/postgresql/*/bin"
  }
  if ((EUID == 0)); then
    getent passwd postgres >/dev/null || postgres_fail "running as root needs the 'postgres' user (created by the postgresql package)"
  fi
  local durability
  case ${SCIMD_POSTGRES_DURABILITY:-off} in
    off) durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off" ;;
    normal) durability="-c fsync=on -c synchronous_commit=off -c full_page_writes=on" ;;
    full) durability="-c fsync=on -c synchronous_commit=on -c full_page_writes=on" ;;
    *) postgres_fail "SCIMD_POSTGRES_DURABILITY must be off, normal or full, not '${SCIMD_POSTGRES_DURABILITY}'" ;;
  esac
  SCIMD_POSTGRES_DIR=$(mktemp -d "${TMPDIR:-/tmp}/scimd-pg.XXXXXX")
  if ((EUID == 0)); then chown postgres: "$SCIMD_POSTGRES_DIR"; fi
  postgres_as_owner "$SCIMD_POSTGRES_BIN/initdb" -D "$SCIMD_POSTGRES_DIR/data" -U postgres \
    --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$SCIMD_POSTGRES_DIR/initdb.log" 2>&1 || {
    cat "$SCIMD_POSTGRES_DIR/initdb.log" >&2
    postgres_fail "initdb failed"
  }
  # A port taken between choosing and binding fails the start; try a few.
  local attempt port started=false
  for attempt in 1 2 3; do
    port=$(postgres_free_port)
    if postgres_as_owner "$SCIMD_POSTGRES_BIN/pg_ctl" -D "$SCIMD_POSTGRES_DIR/data" \
      -l "$SCIMD_POSTGRES_DIR/server.log" -w -t "$POSTGRES_START_TIMEOUT_SECONDS" \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $SCIMD_POSTGRES_DIR $durability -c max_connections=400" \
      start >/dev/null; then
      started=true
      break
    fi
    echo "PostgreSQL did not start on port ${port} (attempt ${attempt})" >&2
  done
  if [[ $started != true ]]; then
    tail -n 20 "$SCIMD_POSTGRES_DIR/server.log" >&2 || true
    postgres_fail "could not start a PostgreSQL cluster"
  fi
  export SCIMD_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:${port}/postgres"
  echo "PostgreSQL $("$SCIMD_POSTGRES_BIN/pg_ctl" --version | awk '{print $3}') at ${SCIMD_TEST_POSTGRES_URL} (data in ${SCIMD_POSTGRES_DIR}; durability ${SCIMD_POSTGRES_DURABILITY:-off})"
}

# Stops the cluster this shell started (pg_ctl reads its pid from the data directory)
# and deletes it.
postgres_stop_cluster() {
  if [[ -n "$SCIMD_POSTGRES_DIR" && -d "$SCIMD_POSTGRES_DIR/data" ]]; then
    postgres_as_owner "$SCIMD_POSTGRES_BIN/pg_ctl" -D "$SCIMD_POSTGRES_DIR/data" -m immediate \
      -w stop >/dev/null 2>&1 || true
  fi
  if [[ -n "$SCIMD_POSTGRES_DIR" ]]; then
    rm -rf "$SCIMD_POSTGRES_DIR"
  fi
  SCIMD_POSTGRES_DIR=""
}

ensure_postgres() {
  if [[ -n "${SCIMD_TEST_POSTGRES_URL:-}" ]]; then
    echo "PostgreSQL: using SCIMD_TEST_POSTGRES_URL from the environment"
    return 0
  fi
  trap postgres_stop_cluster EXIT
  postgres_start_cluster
}
