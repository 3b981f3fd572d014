#!/usr/bin/env bash
# Runs topology_test.py with Debian's python3 (python3-yaml, python3-grpcio).
set -euo pipefail
exec /usr/bin/python3 deploy/kubernetes/topology_test.py "$@"
