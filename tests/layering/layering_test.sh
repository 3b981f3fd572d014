#!/usr/bin/env bash
# Runs layering_test.py with Debian's python3 (see protos/api_test.sh).
set -euo pipefail
exec /usr/bin/python3 tests/layering/layering_test.py "$@"
