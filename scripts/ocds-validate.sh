#!/usr/bin/env bash
# Validates OCDS release packages (docs/ocds.md) with crates/documents/ocds-schema/validate.py:
# the official OCDS 1.1.5 schemas shipped in that directory, patched with the bids, lots and
# pagination extensions, checked by the Python `jsonschema` validator (draft 4), pinned and
# installed into target/ocds-venv from PyPI on first use (as scripts/fuzz.sh does).
#
#   scripts/ocds-validate.sh [--no-strict] PACKAGE.json [...]
set -euo pipefail
JSONSCHEMA_VERSION=4.26.0
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${OCDS_VENV:-$REPO/target/ocds-venv}
PY=$VENV/bin/python
installed() {
  [ -x "$PY" ] && "$PY" -c "import importlib.metadata as m, sys; sys.exit(m.version('jsonschema') != '$JSONSCHEMA_VERSION')" 2>/dev/null
}
if ! installed; then
  # Tests run in parallel: one installs, the others wait for it.
  mkdir -p "$(dirname "$VENV")"
  exec 9>"$VENV.lock"
  flock 9
  if ! installed; then
    echo "ocds-validate: installing jsonschema $JSONSCHEMA_VERSION into $VENV" >&2
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "jsonschema==$JSONSCHEMA_VERSION" >&2
  fi
  flock -u 9
fi
exec "$PY" "$REPO/crates/documents/ocds-schema/validate.py" "$@"
