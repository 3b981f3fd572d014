#!/usr/bin/env bash
# End to end in another language: starts the real staminad binary on a free
# port, generates Python stubs with Debian's grpc_tools, and runs the Python
# quickstart client against it.
set -euo pipefail
STAMINAD="$1"
QUICKSTART="$2"
source tests/e2e_lib.sh
OUT="${TEST_TMPDIR}/py"
mkdir -p "${OUT}"
/usr/bin/python3 -m grpc_tools.protoc -Iprotos -I/usr/include \
  --python_out="${OUT}" --grpc_python_out="${OUT}" protos/stamina/v1/*.proto
find "${OUT}/stamina" -type d -exec touch {}/__init__.py \;

# No base model files: staminad falls back to random stamina-tiny-v1 weights.
start_staminad pytest || exit 1

PYTHONPATH="${OUT}" /usr/bin/python3 "${QUICKSTART}" \
  --address="127.0.0.1:${PORT}" --api_key="${KEY}" | tee "${TEST_TMPDIR}/client.out"
grep -q "created models/quickstart on baseModels/stamina-tiny-v1" "${TEST_TMPDIR}/client.out"
grep -q "created models/quickstart/concepts/anna token <anna> state CONCEPT_STATE_DRAFT" "${TEST_TMPDIR}/client.out"
grep -q "GetModel(models/missing): NOT_FOUND" "${TEST_TMPDIR}/client.out"
echo "python client OK"
