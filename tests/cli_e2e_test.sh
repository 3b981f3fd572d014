#!/usr/bin/env bash
# End to end with the real binaries: starts staminad on a free port with a
# bootstrapped tenant, then drives it with the stamina CLI (flags and the
# STAMINA_API_KEY environment variable), checking output and exit codes.
set -euo pipefail
STAMINAD="$1"
STAMINA="$2"
source tests/e2e_lib.sh

# No base model files: staminad falls back to random stamina-tiny-v1 weights.
# The internal listener takes an operator's admin token (for `stamina admin`).
INTERNAL="$(free_port)"
ADMIN_TOKEN="cli-e2e-operator-admin-token-0123456789"
secret_file "${TEST_TMPDIR}/internal-tokens" "admin ops ${ADMIN_TOKEN}"
secret_file "${TEST_TMPDIR}/admin-token" "${ADMIN_TOKEN}"
start_staminad clitest --internal_listen="127.0.0.1:${INTERNAL}" \
  --internal_tokens_file="${TEST_TMPDIR}/internal-tokens" || exit 1

OUT="${TEST_TMPDIR}/cli.out"
ERR="${TEST_TMPDIR}/cli.err"
cli() { "${STAMINA}" --server="127.0.0.1:${PORT}" "$@" > "${OUT}" 2> "${ERR}"; }
fail() { echo "FAIL: $*"; echo "--- stdout"; cat "${OUT}"; echo "--- stderr"; cat "${ERR}"; exit 1; }

export STAMINA_API_KEY="${KEY}"
cli models create family --display_name=Family || fail "models create"
grep -q "created models/family on baseModels/stamina-tiny-v1" "${OUT}" || fail "models create output"
cli models list || fail "models list"
grep -q "models/family" "${OUT}" || fail "models list output"
cli concepts create family anna '<anna>' --caption='a photo of {}' || fail "concepts create"
grep -q "token <anna> state DRAFT" "${OUT}" || fail "concepts create output"
cli capabilities || fail "capabilities"
grep -q "baseModels/stamina-tiny-v1" "${OUT}" || fail "capabilities output"
# The in-process sampler reports the base model's native and largest side.
grep -Eq "baseModels/stamina-tiny-v1 +32 +64 " "${OUT}" || fail "capabilities sizes"
# The in-process worker and sampler's device (issue #19).
grep -Eq "^ *training +cpu +[0-9]+ cores +- +fp32 +1 *$" "${OUT}" || fail "capabilities: training device"
grep -Eq "^ *sampling +cpu +[0-9]+ cores +- +fp32 +1 *$" "${OUT}" || fail "capabilities: sampling device"

# <anna> is not trained yet: the base model does not know the token, one
# clean line naming the field and exit 10 + 3.
set +e
cli sample family --prompt='a photo of <anna>' --out="${TEST_TMPDIR}/samples"
CODE=$?
set -e
test "${CODE}" -eq 13 || fail "sample exit code ${CODE}"
grep -q "^stamina: INVALID_ARGUMENT: prompt: unknown concept token <anna>" "${ERR}" \
  || fail "sample error line"
test "$(wc -l < "${ERR}")" -eq 1 || fail "sample error is not one line"

# A wrong key (flag beats the environment) is UNAUTHENTICATED, exit 26.
set +e
cli --api_key=stk_wrong models list
CODE=$?
set -e
test "${CODE}" -eq 26 || fail "wrong key exit code ${CODE}"
grep -q "^stamina: UNAUTHENTICATED: " "${ERR}" || fail "wrong key error line"

# Operators: a tenant and a labelled key through the admin service; the key
# works at once and stops at once when revoked; the changes are audited.
admin() {
  "${STAMINA}" --server="127.0.0.1:${INTERNAL}" --admin_token_file="${TEST_TMPDIR}/admin-token" \
    admin "$@" > "${OUT}" 2> "${ERR}"
}
admin tenants create globex --display_name=Globex || fail "admin tenants create"
admin keys create globex --label=ci --ttl_hours=24 || fail "admin keys create"
NEW_KEY="$(cat "${OUT}")"
grep -q "label \"ci\".* expires " "${ERR}" || fail "admin keys create output"
KEY_ID="$(awk '{print $1; exit}' "${ERR}")"
cli --api_key="${NEW_KEY}" models list || fail "the new key does not work"
admin keys list globex || fail "admin keys list"
grep -q "^${KEY_ID}  tenant globex  label \"ci\"" "${OUT}" || fail "admin keys list output"
grep -qF "${NEW_KEY}" "${OUT}" && fail "admin keys list shows a secret"
admin keys revoke globex "${KEY_ID}" || fail "admin keys revoke"
# An online registry backup; --keep=1 leaves only the newest.
admin backup --keep=1 || fail "admin backup"
grep -q "^backed up the registry to .*/backups/registry-.*\.db ([0-9]* bytes, " "${OUT}" \
  || fail "admin backup output: $(cat "${OUT}")"
admin backup --keep=1 || fail "second admin backup"
grep -q "; deleted 1 older" "${OUT}" || fail "admin backup --keep: $(cat "${OUT}")"
set +e
cli --api_key="${NEW_KEY}" models list
CODE=$?
set -e
test "${CODE}" -eq 26 || fail "revoked key exit code ${CODE}"
# The API port does not serve the admin service, and an API key is no admin token.
set +e
"${STAMINA}" --server="127.0.0.1:${PORT}" --admin_token_file="${TEST_TMPDIR}/admin-token" \
  admin tenants list > "${OUT}" 2> "${ERR}"
CODE=$?
set -e
test "${CODE}" -eq 22 || fail "admin on the public port exit code ${CODE} (want UNIMPLEMENTED, 22)"
set +e
STAMINA_ADMIN_TOKEN="${KEY}" "${STAMINA}" --server="127.0.0.1:${INTERNAL}" admin tenants list \
  > "${OUT}" 2> "${ERR}"
CODE=$?
set -e
test "${CODE}" -eq 26 || fail "an API key as admin token: exit code ${CODE}"
grep -q "audit: admin \"ops\" created tenant globex" "${TEST_TMPDIR}/staminad.err" \
  || fail "no audit line for the tenant"
grep -q "audit: admin \"ops\" revoked API key ${KEY_ID}" "${TEST_TMPDIR}/staminad.err" \
  || fail "no audit line for the revocation"
echo "stamina CLI end to end OK"
