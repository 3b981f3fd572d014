#!/usr/bin/env bash
# End to end with the real binaries: staminad without training slots, the
# stamina CLI, and two stamina-worker processes over the internal WorkQueue.
# Worker A trains the first concept, is SIGKILLed in the middle of the second;
# its lease (3 s) expires, worker B completes the job, and the model has
# exactly two versions, which sample together. The random stamina-test-tiny
# architecture keeps training fast.
set -euo pipefail
STAMINAD="$1"
WORKER="$2"
STAMINA="$3"
RENDER="$4"
T="${TEST_TMPDIR}"
source tests/e2e_lib.sh

PORT="$(free_port)"
INTERNAL="$(free_port)"
WORKER_TOKEN="e2e-worker-pool-token-0123456789abcdef"
secret_file "${T}/internal-tokens" "worker pool ${WORKER_TOKEN}"
secret_file "${T}/worker-token" "${WORKER_TOKEN}"
BASE=(--base_model=stamina-test-tiny --base_model_dir="${T}/no-model" --torch_threads=1)
"${STAMINAD}" --listen="127.0.0.1:${PORT}" --data_dir="${T}/data" --bootstrap_tenant=e2e \
  --worker_slots=0 --internal_listen="127.0.0.1:${INTERNAL}" \
  --internal_tokens_file="${T}/internal-tokens" --lease_seconds=3 "${BASE[@]}" \
  > "${T}/staminad.out" 2> "${T}/staminad.err" &
SERVER=$!
A=""
B=""
cleanup() {
  for p in ${A} ${B}; do kill -9 "${p}" 2>/dev/null || true; done
  kill -TERM "${SERVER}" 2>/dev/null || true
  wait "${SERVER}" 2>/dev/null || true
}
trap cleanup EXIT
STAMINA_API_KEY="$(staminad_key "${T}/staminad.err" "${SERVER}" "${T}/data/bootstrap-e2e.key")" \
  || { cat "${T}/staminad.err"; exit 1; }
export STAMINA_API_KEY

OUT="${T}/cli.out"
cli() { "${STAMINA}" --server="127.0.0.1:${PORT}" "$@" > "${OUT}" 2> "${T}/cli.err"; }
fail() {
  echo "FAIL: $*"; cat "${OUT}" "${T}/cli.err"
  echo "--- staminad"; cat "${T}/staminad.err"
  for f in "${T}"/worker-*.err; do echo "--- ${f}"; cat "${f}"; done
  exit 1
}
worker() {
  "${WORKER}" --server="127.0.0.1:${INTERNAL}" --internal_token_file="${T}/worker-token" \
    --name="$1" --poll_ms=50 \
    "${BASE[@]}" 2> "${T}/worker-$1.err" &
}

cli models create fam --base=baseModels/stamina-test-tiny || fail "models create"
render_concept fam anna face
render_concept fam mill landmark

worker a
A=$!
cli train fam anna --steps=5 || fail "train anna"
grep -q "SUCCEEDED: models/fam/versions/1" "${OUT}" || fail "anna did not succeed"

cli train fam mill --steps=150 --no_wait || fail "train mill"
JOB="$(grep -o 'models/fam/jobs/[a-z0-9]*' "${OUT}" | head -1 | cut -d/ -f4)"
test -n "${JOB}" || fail "no job id"
await_training fam "${JOB}" || fail "worker a never trained mill"
kill -9 "${A}"
wait "${A}" 2>/dev/null || true
A=""

worker b
B=$!
cli jobs watch fam "${JOB}" || fail "watch mill"
cli jobs get fam "${JOB}" || fail "jobs get after"
grep -q "SUCCEEDED" "${OUT}" || fail "mill did not succeed"
grep -Eq "attempt +2" "${OUT}" || fail "mill was not retried once"
cli versions fam || fail "versions"
test "$(grep -c '<' "${OUT}")" -eq 2 || fail "not exactly two versions"
cli sample fam --prompt='<anna> near <mill>' --steps=3 --out="${T}/samples" || fail "sample"
test -s "${T}/samples/fam-v2-0.png" || fail "no PNG"
echo "remote workers end to end OK"
