#!/usr/bin/env bash
# Runs manifests_test.py with Debian's python3 (it has python3-yaml).
set -euo pipefail
exec /usr/bin/python3 deploy/kubernetes/manifests_test.py "$@"
