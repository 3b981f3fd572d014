#!/usr/bin/env bash
# Runs protos/api_test.py with Debian's python3, which has grpc_tools; the
# python3 on PATH may be another interpreter without it.
set -euo pipefail
exec /usr/bin/python3 protos/api_test.py "$@"
