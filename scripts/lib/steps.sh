# shellcheck shell=bash
# Step runner for scripts/test: runs named steps in order, times each one, stops at
# the first failure, and prints one closing summary line `scimd: N passed, N failed`.
#
# A step is a shell function run in its own subshell with `set -e` in force, so a
# failing command anywhere inside it fails the step, and any EXIT trap it sets (for
# example to stop a server) runs when the step ends. A step that exits with
# STEP_SKIPPED (77, the automake convention) is counted as skipped, not failed.

readonly STEP_SKIPPED=77

STEPS_PASSED=0
STEPS_FAILED=0
STEPS_SKIPPED=0
STEPS_TOTAL_STARTED_AT=$SECONDS

# Prints the closing line. It must stay the last line scripts/test prints: CI reads it.
steps_print_summary() {
  local elapsed=$((SECONDS - STEPS_TOTAL_STARTED_AT))
  echo
  echo "total time: $(steps_format_duration "$elapsed")"
  if ((STEPS_SKIPPED > 0)); then
    echo "scimd: ${STEPS_PASSED} passed, ${STEPS_FAILED} failed, ${STEPS_SKIPPED} skipped"
  else
    echo "scimd: ${STEPS_PASSED} passed, ${STEPS_FAILED} failed"
  fi
}

steps_format_duration() {
  local seconds=$1
  if ((seconds >= 60)); then
    printf '%dm%02ds' $((seconds / 60)) $((seconds % 60))
  else
    printf '%ds' "$seconds"
  fi
}

# run_step INDEX COUNT NAME FUNCTION: runs FUNCTION as step NAME; exits the script
# with status 1 (after printing the summary) when it fails.
run_step() {
  local index=$1 count=$2 name=$3 function=$4
  local started_at=$SECONDS status
  echo
  echo "==> [${index}/${count}] ${name}: $(step_description "$name")"
  # Not inside `if`/`||`: there bash would ignore `set -e` in the whole subshell.
  set +e
  (
    set -euo pipefail
    "$function"
  )
  status=$?
  set -e
  local took
  took=$(steps_format_duration $((SECONDS - started_at)))
  if ((status == 0)); then
    STEPS_PASSED=$((STEPS_PASSED + 1))
    echo "<== ${name}: passed in ${took}"
  elif ((status == STEP_SKIPPED)); then
    STEPS_SKIPPED=$((STEPS_SKIPPED + 1))
    echo "<== ${name}: skipped (${took})"
  else
    STEPS_FAILED=$((STEPS_FAILED + 1))
    echo "!!! ${name}: FAILED (exit status ${status}) after ${took}"
    echo "    re-run only this step with: scripts/test ${name}"
    steps_print_summary
    exit 1
  fi
}
