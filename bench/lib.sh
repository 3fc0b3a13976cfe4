# shellcheck shell=bash
# What bench/run and bench/ab share: starting and stopping the servers they measure.
# Sourced after scripts/lib/server.sh (for http_ok and stop_process).

# Seconds to wait for a server's first answer, and for a graceful stop before SIGKILL.
readonly START_TIMEOUT_SECONDS=60
readonly STOP_TIMEOUT_SECONDS=15

# A server that cannot start: says why (the caller decides whether that ends the run).
start_failed() {
  echo "   error: $*" >&2
  return 1
}

# Waits until GET URL answers 200, while process PID lives (else shows its LOG).
wait_until_ok() { # URL PID LOG
  local waited=0
  until http_ok "$1"; do
    kill -0 "$2" 2>/dev/null || { tail -20 "$3" >&2; start_failed "server exited while starting ($3)"; return 1; }
    ((waited < START_TIMEOUT_SECONDS * 10)) || { start_failed "no answer from $1 within ${START_TIMEOUT_SECONDS}s"; return 1; }
    sleep 0.1
    waited=$((waited + 1))
  done
}
