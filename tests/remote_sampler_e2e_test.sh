#!/usr/bin/env bash
# End to end with the real binaries: staminad with --sampler_backends
# pointing at two stamina-sampler replicas (ports picked by the replicas,
# --listen=127.0.0.1:0). One concept is trained (3 steps, in-process slot) so
# that a replica must fetch its adapter through staminad's BlobService. Every
# model's samples go to one replica (GetStatus lists each model on exactly
# one, with all its samples), and the PNGs equal those of the embedded
# in-process sampler for the same seed (staminad restarted without
# --sampler_backends on the same data). The new version is on its replica
# before its first Sample (warm on commit). The random stamina-test-tiny
# architecture and 2 denoising steps keep it fast.
set -euo pipefail
STAMINAD="$1"
SAMPLER="$2"
STAMINA="$3"
RENDER="$4"
STATUS="$5"
T="${TEST_TMPDIR}"
source tests/e2e_lib.sh

PORT="$(free_port)"
INTERNAL="$(free_port)"
BASE=(--base_model=stamina-test-tiny --base_model_dir="${T}/no-model" --torch_threads=1)
PIDS=()
SERVER=""
cleanup() {
  for p in "${PIDS[@]}" ${SERVER}; do kill -TERM "${p}" 2>/dev/null || true; done
  for p in "${PIDS[@]}" ${SERVER}; do wait "${p}" 2>/dev/null || true; done
}
trap cleanup EXIT
OUT="${T}/cli.out"
fail() {
  echo "FAIL: $*"; cat "${OUT}" "${T}/cli.err" 2>/dev/null || true
  for f in "${T}"/*.err; do echo "--- ${f}"; cat "${f}"; done
  exit 1
}

# Each replica has a token of its own: staminad presents it when it calls the
# replica, and the replica when it reads adapters back.
REPLICAS=()
NAMES=(a b)
for name in "${NAMES[@]}"; do
  secret_file "${T}/token-${name}" "e2e-sampler-replica-${name}-token-0123456789"
  "${SAMPLER}" --listen=127.0.0.1:0 --blob_server="127.0.0.1:${INTERNAL}" \
    --internal_token_file="${T}/token-${name}" \
    --data_dir="${T}/sampler-${name}" --cache_bytes=$((256 << 20)) "${BASE[@]}" \
    > "${T}/sampler-${name}.out" 2> "${T}/sampler-${name}.err" &
  PIDS+=($!)
  await_line "${T}/sampler-${name}.out" '^port ' "${PIDS[-1]}" || fail "sampler ${name} did not start"
  REPLICAS+=("127.0.0.1:$(awk '/^port /{print $2}' "${T}/sampler-${name}.out")")
done
secret_file "${T}/internal-tokens" "sampler ${REPLICAS[0]} e2e-sampler-replica-a-token-0123456789
sampler ${REPLICAS[1]} e2e-sampler-replica-b-token-0123456789"

start_staminad() {  # $1: log name; the rest: extra flags
  local log="$1"; shift
  "${STAMINAD}" --listen="127.0.0.1:${PORT}" --data_dir="${T}/data" --bootstrap_tenant=e2e \
    --internal_listen="127.0.0.1:${INTERNAL}" --internal_tokens_file="${T}/internal-tokens" \
    "${BASE[@]}" "$@" > "${T}/${log}.out" 2> "${T}/${log}.err" &
  SERVER=$!
  STAMINA_API_KEY="$(staminad_key "${T}/${log}.err" "${SERVER}" "${T}/data/bootstrap-e2e.key")" || fail "${log} did not start"
  export STAMINA_API_KEY
}
cli() { "${STAMINA}" --server="127.0.0.1:${PORT}" "$@" > "${OUT}" 2> "${T}/cli.err"; }

start_staminad staminad-remote --sampler_backends="${REPLICAS[0]},${REPLICAS[1]}"
grep -q "sampler 2 remote replicas" "${T}/staminad-remote.err" || fail "not routed to replicas"
# The base model's sizes come from the replicas (GetStatus), not zeros.
cli capabilities || fail "capabilities"
grep -Eq "baseModels/stamina-test-tiny +[1-9][0-9]* +[1-9][0-9]* " "${OUT}" ||
  fail "GetCapabilities reports no resolution with remote replicas"

cli models create fam --base=baseModels/stamina-test-tiny || fail "models create fam"
render_concept fam anna face
cli train fam anna --steps=3 || fail "train"
grep -q "SUCCEEDED: models/fam/versions/1" "${OUT}" || fail "anna did not succeed"

# Warm on commit: before any Sample, the model's replica holds the new
# version (SamplerBackend.Warm from staminad's background warmer).
warmed=""
for _ in $(seq 1 300); do
  for i in 0 1; do
    "${STATUS}" --server="${REPLICAS[$i]}" --internal_token_file="${T}/token-${NAMES[$i]}" \
      > "${T}/warm-${i}.txt" \
      || fail "GetStatus of ${REPLICAS[$i]}"
  done
  if grep -q "^cached models/fam models/fam/versions/1 [0-9]* 0$" "${T}"/warm-*.txt; then
    warmed=1; break
  fi
  sleep 0.1
done
test -n "${warmed}" || { cat "${T}"/warm-*.txt; fail "version 1 was not warmed on commit"; }
test "$(cat "${T}"/warm-*.txt | grep -c '^cached ')" -eq 1 || fail "warmed on more than one replica"
grep -q "warmed models/fam/versions/1" "${T}/staminad-remote.err" || fail "no warm-up log line"
for m in m1 m2 m3; do
  cli models create "${m}" --base=baseModels/stamina-test-tiny || fail "models create ${m}"
done

sample() {  # $1: model, $2: out dir, $3: prompt
  cli sample "$1" --prompt="$3" --steps=2 --seed=7 --out="$2" || fail "sample $1"
}
for round in 1 2; do
  sample fam "${T}/remote-${round}" 'a photo of <anna>'
  for m in m1 m2 m3; do sample "${m}" "${T}/remote-${round}" 'a red square'; done
done
cmp "${T}/remote-1/fam-v1-0.png" "${T}/remote-2/fam-v1-0.png" || fail "same seed, other bytes"

for i in 0 1; do
  "${STATUS}" --server="${REPLICAS[$i]}" --internal_token_file="${T}/token-${NAMES[$i]}" \
    > "${T}/status-${i}.txt" \
    || fail "GetStatus of ${REPLICAS[$i]}"
done
for m in fam m1 m2 m3; do
  homes="$(cat "${T}"/status-*.txt | grep -c "^cached models/${m} ")" || true
  test "${homes}" -eq 1 || { cat "${T}"/status-*.txt; fail "${m} is cached on ${homes} replicas"; }
  grep -q "^cached models/${m} .* 2$" "${T}"/status-*.txt \
    || { cat "${T}"/status-*.txt; fail "${m}'s two samples did not go to one replica"; }
done
grep -q "^cached models/fam models/fam/versions/1 " "${T}"/status-*.txt || fail "fam's version"
# Each replica names the device it samples on (issue #19).
test "$(grep -c '^device sampling cpu fp32$' "${T}"/status-*.txt | awk -F: '{s+=$2} END {print s}')" -eq 2 \
  || { cat "${T}"/status-*.txt; fail "a replica did not report its device"; }
test "$(find "${T}"/sampler-*/blobs -type f -not -path '*/tmp/*' | wc -l)" -eq 1 \
  || fail "the adapter was not fetched exactly once through BlobService"

# The same samples from the embedded in-process sampler.
kill -TERM "${SERVER}"; wait "${SERVER}" || true; SERVER=""
PORT="$(free_port)"
start_staminad staminad-local --worker_slots=0
grep -q "sampler in-process" "${T}/staminad-local.err" || fail "not in-process"
sample fam "${T}/local" 'a photo of <anna>'
sample m1 "${T}/local" 'a red square'
cmp "${T}/remote-1/fam-v1-0.png" "${T}/local/fam-v1-0.png" || fail "remote and in-process PNGs differ (fam)"
cmp "${T}/remote-1/m1-v0-0.png" "${T}/local/m1-v0-0.png" || fail "remote and in-process PNGs differ (m1)"
for i in 0 1; do echo "--- GetStatus of ${REPLICAS[$i]}"; cat "${T}/status-${i}.txt"; done
echo "remote sampler end to end OK"
