#!/usr/bin/env bash
# The Python SDK (client_examples/python) against the real staminad binary on a
# free port: its unittest suite, whose first import generates the stubs with
# Debian's grpc_tools into $STAMINA_STUBS_DIR.
set -euo pipefail
STAMINAD="$1"
source tests/e2e_lib.sh
export STAMINA_STUBS_DIR="${TEST_TMPDIR}/stubs"

# No base model files: staminad falls back to random stamina-tiny-v1 weights.
start_staminad pysdk || exit 1
export STAMINA_ADDRESS="127.0.0.1:${PORT}" STAMINA_API_KEY="${KEY}"
cd client_examples/python
PYTHONPATH=. /usr/bin/python3 -m unittest discover -s tests -v
