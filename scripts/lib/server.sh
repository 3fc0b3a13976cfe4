# shellcheck shell=bash
# Starts a throw-away scimd with one fresh, empty tenant for a conformance run, and
# stops it again. Use inside a step (a subshell): scimd_start_tenant_server sets an
# EXIT trap that stops the server and removes its data when the step ends, however
# it ends.
#
# It does not parse `scimd serve`'s own output: the tenant is created first with
#   scimd tenant create NAME --data-dir DIR --public-url http://127.0.0.1:PORT --json
# which prints {"id":..., "scim_url":..., "token":...}; then `scimd serve` is started
# on that port, bound to 127.0.0.1 only, and polled on /healthz.
#
# After it returns: SCIM_URL, SCIM_TOKEN_FILE (mode 600), SCIMD_SERVER_LOG are set.

# Seconds to wait for /healthz before giving up.
readonly SERVER_START_TIMEOUT_SECONDS=30
# Seconds to wait for a graceful stop before SIGKILL.
readonly SERVER_STOP_TIMEOUT_SECONDS=10

SCIMD_SERVER_PID=""
SCIMD_SERVER_WORK_DIR=""

server_fail() {
  echo "error: $*" >&2
  exit 1
}

# Prints a TCP port on 127.0.0.1 that was free a moment ago.
free_local_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Reads one non-empty string field of the JSON object on stdin: the whole input, or
# else its last line that is a JSON object (in case log lines precede it).
json_field() {
  python3 -c 'import json, sys
text = sys.stdin.read()
candidates = [text] + [line for line in reversed(text.splitlines()) if line.strip().startswith("{")]
for candidate in candidates:
    try:
        document = json.loads(candidate)
    except ValueError:
        continue
    value = document.get(sys.argv[1]) if isinstance(document, dict) else None
    if isinstance(value, str) and value:
        print(value)
        sys.exit(0)
sys.exit(1)' "$1"
}

# Succeeds when GET URL answers 200 within a second.
http_ok() {
  python3 -c 'import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=1) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception:
    sys.exit(1)' "$1"
}

# Stops process PID (a child of this shell): SIGTERM, then SIGKILL if it still runs
# after SECONDS, saying so under NAME; then reaps it. Also used by bench/run and bench/ab.
stop_process() { # PID SECONDS [NAME]
  if kill -0 "$1" 2>/dev/null; then
    kill -TERM "$1" 2>/dev/null || true
    local waited=0
    while kill -0 "$1" 2>/dev/null && ((waited < $2 * 10)); do
      sleep 0.1
      waited=$((waited + 1))
    done
    if kill -0 "$1" 2>/dev/null; then
      echo "${3:-process $1} did not stop within ${2}s; killing it" >&2
      kill -KILL "$1" 2>/dev/null || true
    fi
  fi
  wait "$1" 2>/dev/null || true
}

# Stops the server this shell started (by its pid only) and removes its data.
scimd_stop_server() {
  local status=$? server_was_running=false
  if [[ -n "$SCIMD_SERVER_PID" ]] && kill -0 "$SCIMD_SERVER_PID" 2>/dev/null; then
    server_was_running=true
    stop_process "$SCIMD_SERVER_PID" "$SERVER_STOP_TIMEOUT_SECONDS" scimd
  fi
  SCIMD_SERVER_PID=""
  if ((status != 0)) && [[ -n "${SCIMD_SERVER_LOG:-}" && -s "${SCIMD_SERVER_LOG}" ]]; then
    # A server that died or never came up: its last words say why. A server that
    # ran: only its warnings and errors help; the full log stays on disk.
    if [[ $server_was_running == true ]]; then
      echo "--- warnings and errors in the scimd log (${SCIMD_SERVER_LOG}) ---" >&2
      grep -E 'WARN|ERROR' "$SCIMD_SERVER_LOG" | tail -n 20 >&2 || true
    else
      echo "--- last lines of the scimd log (${SCIMD_SERVER_LOG}) ---" >&2
      tail -n 20 "$SCIMD_SERVER_LOG" >&2 || true
    fi
    echo "---" >&2
  fi
  if [[ -n "$SCIMD_SERVER_WORK_DIR" && -d "$SCIMD_SERVER_WORK_DIR" ]]; then
    rm -rf "$SCIMD_SERVER_WORK_DIR"
  fi
  SCIMD_SERVER_WORK_DIR=""
}

# scimd_start_tenant_server BINARY TENANT LOG_FILE
scimd_start_tenant_server() {
  local binary=$1 tenant=$2
  SCIMD_SERVER_LOG=$3
  [[ -x "$binary" ]] || server_fail "no scimd binary at ${binary}; run: cargo build -p scimd"

  SCIMD_SERVER_WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/scimd-conformance.XXXXXX")
  trap scimd_stop_server EXIT
  trap 'exit 130' INT TERM
  local data_dir="${SCIMD_SERVER_WORK_DIR}/data"
  mkdir -p "$data_dir"
  : >"$SCIMD_SERVER_LOG"

  local port public_url tenant_json
  port=$(free_local_port)
  public_url="http://127.0.0.1:${port}"

  echo "creating tenant '${tenant}' in ${data_dir}"
  if ! tenant_json=$("$binary" tenant create "$tenant" --data-dir "$data_dir" \
    --public-url "$public_url" --json 2>>"$SCIMD_SERVER_LOG"); then
    server_fail "'scimd tenant create ${tenant} --data-dir DIR --public-url ${public_url} --json' failed (log: ${SCIMD_SERVER_LOG})"
  fi
  SCIM_URL=$(json_field scim_url <<<"$tenant_json") ||
    server_fail "'scimd tenant create --json' printed no JSON object with a scim_url; it printed: '${tenant_json}'"
  local token
  token=$(json_field token <<<"$tenant_json") ||
    server_fail "'scimd tenant create --json' printed no JSON object with a token"
  SCIM_TOKEN_FILE="${SCIMD_SERVER_WORK_DIR}/token"
  (umask 077 && printf '%s\n' "$token" >"$SCIM_TOKEN_FILE")
  # The collection and the tester build every URL from this one, so it must point
  # at the server we are about to start (this is what --public-url is for).
  [[ "$SCIM_URL" == "${public_url}/"* ]] ||
    server_fail "scim_url '${SCIM_URL}' does not start with --public-url '${public_url}/'"

  echo "starting scimd serve --listen 127.0.0.1:${port}"
  "$binary" serve --listen "127.0.0.1:${port}" --data-dir "$data_dir" >>"$SCIMD_SERVER_LOG" 2>&1 &
  SCIMD_SERVER_PID=$!

  local deadline=$((SECONDS + SERVER_START_TIMEOUT_SECONDS))
  until http_ok "${public_url}/healthz"; do
    kill -0 "$SCIMD_SERVER_PID" 2>/dev/null ||
      server_fail "scimd serve exited before answering /healthz (log: ${SCIMD_SERVER_LOG})"
    ((SECONDS < deadline)) ||
      server_fail "scimd did not answer ${public_url}/healthz within ${SERVER_START_TIMEOUT_SECONDS}s"
    sleep 0.25
  done
  echo "scimd is up: ${SCIM_URL}"
  export SCIM_URL SCIM_TOKEN_FILE SCIMD_SERVER_LOG
}
