#!/usr/bin/env bash
# End to end with the real binaries: starts staminad on a free port with a
# bootstrapped tenant, then drives it with the stamina CLI (flags and the
# STAMINA_API_KEY environment variable), checking output and exit codes.
set -euo pipefail
STAMINAD="$1"
STAMINA="$2"
source tests/e2e_lib.sh

# No base model files: staminad falls back to random stamina-tiny-v1 weights.
start_staminad clitest || exit 1

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
echo "stamina CLI end to end OK"
