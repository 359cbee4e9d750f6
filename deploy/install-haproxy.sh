#!/usr/bin/env bash
# Installs HAProxy from the Debian package when it is missing (deploy/run.sh and .ci/run
# use it). The package's own service is not started where there is no systemd.
set -euo pipefail
if command -v haproxy >/dev/null 2>&1; then
  exit 0
fi
echo "HAProxy is missing: installing the Debian package"
if [ "$(id -u)" -ne 0 ]; then
  sudo=sudo
else
  sudo=
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq haproxy >/dev/null
haproxy -v | head -n 1
