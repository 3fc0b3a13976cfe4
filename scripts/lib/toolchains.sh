# shellcheck shell=bash
# Installs the conformance tools into a per-user cache, outside the repository:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/scimd/venv  scim2-tester (conformance/requirements.txt)
#   ${XDG_CACHE_HOME:-$HOME/.cache}/scimd/node  newman (conformance/package-lock.json)
# Each is rebuilt only when its pinned requirements (or the interpreter) change: a
# stamp file holds the hash it was built from. Only PyPI, the npm registry and
# Debian's packages are used.

SCIMD_CACHE_DIR="${SCIMD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/scimd}"
SCIMD_VENV_DIR="${SCIMD_CACHE_DIR}/venv"
SCIMD_NODE_DIR="${SCIMD_CACHE_DIR}/node"

# The oldest Python scim2-tester supports, and the oldest Node newman 6 supports.
readonly MIN_PYTHON_MINOR=11
readonly MIN_NODE_MAJOR=16

toolchain_fail() {
  echo "error: $*" >&2
  exit 1
}

# Serialises installs into the cache, so two runs never build the same venv at once.
toolchain_lock() {
  mkdir -p "$SCIMD_CACHE_DIR"
  if command -v flock >/dev/null 2>&1; then
    exec {SCIMD_CACHE_LOCK_FD}>"${SCIMD_CACHE_DIR}/.lock"
    flock "$SCIMD_CACHE_LOCK_FD"
  fi
}

toolchain_unlock() {
  if [[ -n "${SCIMD_CACHE_LOCK_FD:-}" ]]; then
    exec {SCIMD_CACHE_LOCK_FD}>&-
    unset SCIMD_CACHE_LOCK_FD
  fi
}

# Installs Debian's python3-venv when this python3 has no ensurepip (Debian splits
# it out), because `python3 -m venv` cannot create a venv with pip without it.
ensure_python_venv_module() {
  if python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    return 0
  fi
  echo "python3 has no ensurepip/venv; installing Debian's python3-venv"
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    toolchain_fail "python3 cannot create virtual environments; install python3-venv (apt-get install python3-venv) and re-run"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 ||
    toolchain_fail "python3-venv installed but python3 still has no ensurepip"
}

# Prints the path of a python in a venv holding conformance/requirements.txt.
ensure_scim2_tester_venv() {
  local requirements="${REPO_ROOT}/conformance/requirements.txt"
  command -v python3 >/dev/null 2>&1 || toolchain_fail "python3 is not installed (3.${MIN_PYTHON_MINOR}+ is needed)"
  python3 -c "import sys; sys.exit(sys.version_info < (3, ${MIN_PYTHON_MINOR}))" ||
    toolchain_fail "scim2-tester needs Python 3.${MIN_PYTHON_MINOR}+, found $(python3 --version 2>&1)"

  local wanted
  wanted="$( (cat "$requirements"; python3 --version; command -v python3) | sha256sum | cut -d' ' -f1)"
  toolchain_lock
  if [[ -x "${SCIMD_VENV_DIR}/bin/python" && "$(cat "${SCIMD_VENV_DIR}/.stamp" 2>/dev/null)" == "$wanted" ]]; then
    echo "scim2-tester: reusing ${SCIMD_VENV_DIR}" >&2
  else
    echo "scim2-tester: installing conformance/requirements.txt into ${SCIMD_VENV_DIR}" >&2
    ensure_python_venv_module >&2
    rm -rf "$SCIMD_VENV_DIR"
    python3 -m venv "$SCIMD_VENV_DIR" >&2
    "${SCIMD_VENV_DIR}/bin/python" -m pip install --quiet --no-input --disable-pip-version-check \
      -r "$requirements" >&2 || toolchain_fail "pip could not install conformance/requirements.txt"
    echo "$wanted" >"${SCIMD_VENV_DIR}/.stamp"
  fi
  toolchain_unlock
  echo "${SCIMD_VENV_DIR}/bin/python"
}

# Prints the node_modules directory holding the newman pinned in conformance/.
ensure_newman() {
  command -v node >/dev/null 2>&1 || toolchain_fail "node is not installed (${MIN_NODE_MAJOR}+ is needed for newman)"
  command -v npm >/dev/null 2>&1 || toolchain_fail "npm is not installed"
  node -e "process.exit(Number(process.versions.node.split('.')[0]) < ${MIN_NODE_MAJOR} ? 1 : 0)" ||
    toolchain_fail "newman needs Node ${MIN_NODE_MAJOR}+, found $(node --version)"

  local wanted
  wanted="$( (cat "${REPO_ROOT}/conformance/package.json" "${REPO_ROOT}/conformance/package-lock.json"; node --version) | sha256sum | cut -d' ' -f1)"
  toolchain_lock
  if [[ -d "${SCIMD_NODE_DIR}/node_modules/newman" && "$(cat "${SCIMD_NODE_DIR}/.stamp" 2>/dev/null)" == "$wanted" ]]; then
    echo "newman: reusing ${SCIMD_NODE_DIR}" >&2
  else
    echo "newman: installing conformance/package-lock.json into ${SCIMD_NODE_DIR}" >&2
    rm -rf "$SCIMD_NODE_DIR"
    mkdir -p "$SCIMD_NODE_DIR"
    cp "${REPO_ROOT}/conformance/package.json" "${REPO_ROOT}/conformance/package-lock.json" "$SCIMD_NODE_DIR/"
    npm ci --prefix "$SCIMD_NODE_DIR" --no-audit --no-fund --loglevel=error >&2 ||
      toolchain_fail "npm could not install conformance/package-lock.json"
    echo "$wanted" >"${SCIMD_NODE_DIR}/.stamp"
  fi
  toolchain_unlock
  echo "${SCIMD_NODE_DIR}/node_modules"
}

# Makes sure a rustup component (rustfmt, clippy) is there, adding it if rustup can.
ensure_cargo_subcommand() {
  local subcommand=$1 component=$2
  if cargo "$subcommand" --version >/dev/null 2>&1; then
    return 0
  fi
  command -v rustup >/dev/null 2>&1 ||
    toolchain_fail "cargo ${subcommand} is missing and there is no rustup to add ${component}"
  echo "adding rustup component ${component}"
  rustup component add "$component"
}
