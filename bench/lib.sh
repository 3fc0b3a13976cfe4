# shellcheck shell=bash
# What bench/run and bench/ab share: starting and stopping the servers they measure,
# and the CPU latency request held while they do.
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

# The CPU latency request (scimd-bench hold-cpu-latency, docs/benchmarks.md item 74):
# held from before the first round to the end of the run. Needs BENCH (the scimd-bench
# binary). Sets HELD_CPU_LATENCY (what results record: empty when none stands) and
# CPU_LATENCY_NOTE (one line for the record of the machine).
HOLDER_PID=""
HELD_CPU_LATENCY=""
CPU_LATENCY_NOTE=""
hold_cpu_latency() { # MICROSECONDS|off LOG_DIR
  HELD_CPU_LATENCY=""
  if [[ $1 == off ]]; then
    CPU_LATENCY_NOTE="none (--cpu-latency off)"
    return 0
  fi
  local said="$2/cpu-latency.out" log="$2/cpu-latency.log" i
  : >"$said"
  # It watches this shell ($$): it ends by itself if the run is killed.
  "$BENCH" hold-cpu-latency --microseconds "$1" --while-pid $$ >"$said" 2>"$log" &
  HOLDER_PID=$!
  for ((i = 0; i < 100; i++)); do
    if [[ -s $said ]]; then
      HELD_CPU_LATENCY=$1
      CPU_LATENCY_NOTE="$1 µs held for the run (/dev/cpu_dma_latency)"
      return 0
    fi
    kill -0 "$HOLDER_PID" 2>/dev/null || break
    sleep 0.05
  done
  release_cpu_latency
  CPU_LATENCY_NOTE="none: $(tail -1 "$log" 2>/dev/null || true)"
  echo "== no CPU latency request held: $CPU_LATENCY_NOTE" >&2
}

release_cpu_latency() {
  [[ -n $HOLDER_PID ]] || return 0
  stop_process "$HOLDER_PID" "$STOP_TIMEOUT_SECONDS"
  HOLDER_PID=""
}

# The flag that records the request with each result, if one stands (unquoted use).
cpu_latency_args() {
  [[ -z $HELD_CPU_LATENCY ]] || echo "--cpu-latency-us $HELD_CPU_LATENCY"
}

# Checks a --cpu-latency value: microseconds or off.
check_cpu_latency_flag() { # VALUE
  [[ $1 == off || $1 =~ ^[0-9]+$ ]] ||
    { echo "--cpu-latency takes microseconds or off, not '$1'" >&2; exit 2; }
}
