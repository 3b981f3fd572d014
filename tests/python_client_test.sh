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

PORT="$(free_port)"
# No base model files here: staminad registers random stamina-tiny-v1 weights.
"${STAMINAD}" --listen="127.0.0.1:${PORT}" --data_dir="${TEST_TMPDIR}/data" \
  --bootstrap_tenant=pytest --base_model_dir="${TEST_TMPDIR}/no-model" \
  > "${TEST_TMPDIR}/staminad.out" 2> "${TEST_TMPDIR}/staminad.err" &
SERVER=$!
trap 'kill -TERM ${SERVER} 2>/dev/null || true; wait ${SERVER} 2>/dev/null || true' EXIT
KEY="$(staminad_key "${TEST_TMPDIR}/staminad.out" "${SERVER}")" \
  || { cat "${TEST_TMPDIR}/staminad.err"; exit 1; }

PYTHONPATH="${OUT}" /usr/bin/python3 "${QUICKSTART}" \
  --address="127.0.0.1:${PORT}" --api_key="${KEY}" | tee "${TEST_TMPDIR}/client.out"
grep -q "created models/quickstart on baseModels/stamina-tiny-v1" "${TEST_TMPDIR}/client.out"
grep -q "created models/quickstart/concepts/anna token <anna> state CONCEPT_STATE_DRAFT" "${TEST_TMPDIR}/client.out"
grep -q "GetModel(models/missing): NOT_FOUND" "${TEST_TMPDIR}/client.out"
echo "python client OK"
