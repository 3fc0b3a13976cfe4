# shellcheck shell=bash
# Checks made before any step runs, so that a machine that cannot finish says so at
# once instead of failing later with an unrelated-looking error (a full disk shows up
# as a pip, ensurepip or linker failure fifteen minutes in).

# What a cold full run writes: the debug and conformance builds, the Python and Node
# tools, PostgreSQL's packages and clusters. Measured at about 13 GiB.
readonly PREFLIGHT_WARN_FREE_KIB=$((15 * 1024 * 1024))
# Below this nothing useful can run.
readonly PREFLIGHT_FAIL_FREE_KIB=$((2 * 1024 * 1024))

# free_kib PATH: the KiB available to us on PATH's filesystem.
preflight_free_kib() {
  df -Pk "$1" 2>/dev/null | awk 'NR == 2 { print $4 }'
}

# preflight_disk DIR...: fails when a directory's filesystem is nearly full, warns when
# it has less than a cold full run needs. Directories that do not exist yet are
# checked through their nearest existing parent.
preflight_disk() {
  local dir free
  for dir in "$@"; do
    while [[ ! -e $dir && $dir != / ]]; do dir=$(dirname "$dir"); done
    free=$(preflight_free_kib "$dir")
    [[ $free =~ ^[0-9]+$ ]] || continue
    if ((free < PREFLIGHT_FAIL_FREE_KIB)); then
      echo "preflight: only $((free / 1024)) MiB free on the filesystem of ${dir}; the tests need several GiB" >&2
      return 1
    fi
    if ((free < PREFLIGHT_WARN_FREE_KIB)); then
      echo "preflight: warning: $((free / 1024 / 1024)) GiB free on the filesystem of ${dir}; a cold full run writes about 13 GiB" >&2
    fi
  done
}
