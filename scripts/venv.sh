# Sourced by scripts/demo, scripts/test and scripts/test-distributed: build a virtual environment
# from a lock of exact versions (requirements/*.txt, refreshed by ./scripts/lock), or, with
# CITEARCHIVE_LATEST=1, from the newest releases pyproject.toml's ranges allow.

# make_venv DIR LOCK EXTRAS: DIR holds the project (editable) and the locked packages.
make_venv() {
  local dir=$1 lock=$2 extras=$3
  local pip=("$dir/bin/python" -m pip --quiet --disable-pip-version-check)
  [ -x "$dir/bin/python" ] || python3 -m venv "$dir"
  if [ "${CITEARCHIVE_LATEST:-0}" = 1 ]; then
    "${pip[@]}" install --upgrade --upgrade-strategy eager -e ".[$extras]"
    return
  fi
  # The lock's hashes are checked; nothing outside it is installed (--no-deps), and the project
  # is built with the locked setuptools, not one fetched for an isolated build.
  "${pip[@]}" install --require-hashes --no-deps -r "$lock"
  "${pip[@]}" -q install --no-deps --no-build-isolation -e .  # -qq: not setuptools' editable notes
  "${pip[@]}" check >/dev/null || { "${pip[@]}" check >&2; return 1; }
}
