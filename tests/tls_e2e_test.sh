#!/usr/bin/env bash
# TLS by flags, end to end with the real binaries: a self-signed certificate
# made here with openssl (for 127.0.0.1 and localhost), staminad serving with
# --tls_cert/--tls_key, and the stamina CLI with --tls_ca. A plaintext client,
# a client that does not trust the certificate, and a client expecting
# another name are all refused (UNAVAILABLE, exit 10 + 14). A stamina-worker
# with --tls_ca trains a job over the TLS WorkQueue. A stamina-sampler replica
# serving TLS (--tls_cert/--tls_key) and reading adapters over the TLS
# BlobService (--tls_ca) serves staminad's Sample (--sampler_tls_ca).
set -euo pipefail
STAMINAD="$1"
STAMINA="$2"
WORKER="$3"
RENDER="$4"
SAMPLER="$5"
T="${TEST_TMPDIR}"
source tests/e2e_lib.sh

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=localhost" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "${T}/key.pem" -out "${T}/cert.pem" 2> "${T}/openssl.err" \
  || { cat "${T}/openssl.err"; exit 1; }

# One alone is a flag error: staminad refuses to start.
if "${STAMINAD}" --listen=127.0.0.1:0 --data_dir="${T}/bad" --tls_cert="${T}/cert.pem" \
    --worker_slots=0 --sampler_cache_bytes=0 2> "${T}/bad.err"; then
  echo "FAIL: staminad started with --tls_cert alone"; exit 1
fi
grep -q "tls_cert_file, tls_key_file" "${T}/bad.err" || { cat "${T}/bad.err"; exit 1; }

PORT="$(free_port)"
INTERNAL="$(free_port)"
secret_file "${T}/sampler-token" "tls-e2e-sampler-replica-token-0123456789"
secret_file "${T}/worker-token" "tls-e2e-worker-pool-token-0123456789abcd"
WORKER_PID=""
SAMPLER_PID=""
SERVER=""
cleanup() {
  for p in ${WORKER_PID} ${SAMPLER_PID} ${SERVER}; do kill -TERM "${p}" 2>/dev/null || true; done
  for p in ${WORKER_PID} ${SAMPLER_PID} ${SERVER}; do wait "${p}" 2>/dev/null || true; done
}
trap cleanup EXIT

# The sampler replica: TLS on its own port and towards staminad's BlobService.
"${SAMPLER}" --listen=127.0.0.1:0 --blob_server="127.0.0.1:${INTERNAL}" \
  --internal_token_file="${T}/sampler-token" \
  --tls_cert="${T}/cert.pem" --tls_key="${T}/key.pem" --tls_ca="${T}/cert.pem" \
  --data_dir="${T}/sampler" --cache_bytes=$((256 << 20)) --base_model=stamina-test-tiny \
  --base_model_dir="${T}/no-model" --torch_threads=1 \
  > "${T}/sampler.out" 2> "${T}/sampler.err" &
SAMPLER_PID=$!
await_line "${T}/sampler.out" '^port ' "${SAMPLER_PID}" || { cat "${T}/sampler.err"; exit 1; }
SAMPLER_PORT="$(awk '/^port /{print $2}' "${T}/sampler.out")"
test -n "${SAMPLER_PORT}" || { cat "${T}/sampler.err"; exit 1; }
secret_file "${T}/internal-tokens" "sampler 127.0.0.1:${SAMPLER_PORT} $(cat "${T}/sampler-token")
worker pool $(cat "${T}/worker-token")"
grep -q "(TLS)" "${T}/sampler.err" || { cat "${T}/sampler.err"; exit 1; }

"${STAMINAD}" --listen="127.0.0.1:${PORT}" --data_dir="${T}/data" --bootstrap_tenant=tls \
  --tls_cert="${T}/cert.pem" --tls_key="${T}/key.pem" --worker_slots=0 \
  --internal_listen="127.0.0.1:${INTERNAL}" --internal_tokens_file="${T}/internal-tokens" \
  --base_model=stamina-test-tiny --base_model_dir="${T}/no-model" \
  --sampler_backends="127.0.0.1:${SAMPLER_PORT}" --sampler_tls_ca="${T}/cert.pem" \
  > "${T}/staminad.out" 2> "${T}/staminad.err" &
SERVER=$!
STAMINA_API_KEY="$(staminad_key "${T}/staminad.err" "${SERVER}" "${T}/data/bootstrap-tls.key")" \
  || { cat "${T}/staminad.err"; exit 1; }
export STAMINA_API_KEY
grep -q "serving TLS" "${T}/staminad.err" || { cat "${T}/staminad.err"; exit 1; }

OUT="${T}/cli.out"
ERR="${T}/cli.err"
cli() { "${STAMINA}" --server="127.0.0.1:${PORT}" --timeout_seconds=5 "$@" > "${OUT}" 2> "${ERR}"; }
fail() {
  echo "FAIL: $*"; cat "${OUT}" "${ERR}"
  for f in "${T}"/*.err; do echo "--- ${f}"; cat "${f}"; done
  exit 1
}
refused() {
  local code=0
  cli "$@" models list || code=$?
  test "${code}" -eq 24 || fail "$* exit code ${code}, want 24"
  grep -q "^stamina: UNAVAILABLE" "${ERR}" || fail "$* error line"
}

cli --tls_ca="${T}/cert.pem" models create secure || fail "models create over TLS"
grep -q "created models/secure" "${OUT}" || fail "models create output"
STAMINA_TLS_CA="${T}/cert.pem" cli models list || fail "STAMINA_TLS_CA"
grep -q "models/secure" "${OUT}" || fail "models list output"
refused                                                   # plaintext
refused --tls                                             # system roots only
refused --tls_ca="${T}/cert.pem" --tls_server_name=other.example

# A remote worker over TLS trains a job.
export STAMINA_TLS_CA="${T}/cert.pem"
cli models create fam --base=baseModels/stamina-test-tiny || fail "models create fam"
render_concept fam anna face
"${WORKER}" --server="127.0.0.1:${INTERNAL}" --internal_token_file="${T}/worker-token" \
  --tls_ca="${T}/cert.pem" \
  --base_model=stamina-test-tiny --base_model_dir="${T}/no-model" --torch_threads=1 \
  --poll_ms=50 2> "${T}/worker.err" &
WORKER_PID=$!
"${STAMINA}" --server="127.0.0.1:${PORT}" train fam anna --steps=5 > "${OUT}" 2> "${ERR}" \
  || { cat "${T}/worker.err"; fail "train over TLS"; }
grep -q "SUCCEEDED: models/fam/versions/1" "${OUT}" || fail "train output"

# The version the remote worker committed is warmed on the TLS replica.
for _ in $(seq 1 300); do
  grep -q "warm.* models/fam/versions/1" "${T}/staminad.err" && break
  sleep 0.1
done
grep -q "warmed models/fam/versions/1" "${T}/staminad.err" || fail "no warm-up over TLS"

# Sampling goes over TLS to the replica, which reads the adapter over TLS.
"${STAMINA}" --server="127.0.0.1:${PORT}" sample fam --prompt='a photo of <anna>' --steps=2 \
  --seed=7 --out="${T}/samples" > "${OUT}" 2> "${ERR}" || fail "sample through the TLS replica"
test -s "${T}/samples/fam-v1-0.png" || fail "no PNG from the TLS replica"
test "$(find "${T}/sampler/blobs" -type f -not -path '*/tmp/*' | wc -l)" -eq 1 \
  || fail "the replica did not fetch the adapter over the TLS BlobService"
echo "TLS end to end OK"
