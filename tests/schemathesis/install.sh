#!/usr/bin/env bash
# Installs schemathesis, pinned by tests/schemathesis/requirements.txt, into
# tests/schemathesis/.venv. The schemathesis test runs this itself when the virtualenv is
# missing or was installed from another requirements file; `.ci/run` runs it up front.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
# One installer at a time (test binaries may start together); the others wait, then find
# the stamp in place.
exec 9>"$here/.venv.lock"
flock 9
if cmp -s "$here/requirements.txt" "$venv/requirements.txt"; then
  exit 0
fi
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
# The stamp goes in last: a venv without it is incomplete and is installed again.
cp "$here/requirements.txt" "$venv/requirements.txt"
