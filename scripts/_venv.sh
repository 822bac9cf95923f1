# Sourced by scripts/demo and scripts/test: a project virtualenv with the pinned dependencies.
# Re-installs only when pyproject.toml changes. Usage: ensure_venv "" | ensure_venv "[test]" | ensure_venv "[bench]"
ensure_venv() {
  local extras=$1 python=${PYTHON:-python3}
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || {
    echo "Broadsheet needs Python 3.11 or newer as '$python' (set PYTHON=... to choose one)." >&2
    return 1
  }
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  local stamp=".venv/.installed-$(cat pyproject.toml | "$python" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:16])')${extras:+-${extras//[^a-z]/}}"
  if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}"
    touch "$stamp"
  fi
}
