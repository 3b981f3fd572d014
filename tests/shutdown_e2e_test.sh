#!/usr/bin/env bash
# SIGTERM while staminad samples a heavy request (issue 18: it once ran on
# for 90 s and needed SIGKILL): the server stops taking calls, cancels the
# in-flight Sample after --grace_seconds, the sampler stops within one
# denoising step, and the process exits 0 within a bounded time.
set -euo pipefail
STAMINAD="$1"
STAMINA="$2"
source tests/e2e_lib.sh

GRACE=2
start_staminad shutdowntest --grace_seconds="${GRACE}" || exit 1

OUT="${TEST_TMPDIR}/cli.out"
ERR="${TEST_TMPDIR}/cli.err"
cli() { "${STAMINA}" --server="127.0.0.1:${PORT}" "$@" > "${OUT}" 2> "${ERR}"; }
fail() {
  echo "FAIL: $*"; echo "--- cli stdout"; cat "${OUT}"; echo "--- cli stderr"; cat "${ERR}"
  echo "--- staminad stderr"; cat "${TEST_TMPDIR}/staminad.err"; exit 1
}

export STAMINA_API_KEY="${KEY}"
cli models create family || fail "models create"

# 16 images x 200 guided steps: far longer than the test waits.
SAMPLE_ERR="${TEST_TMPDIR}/sample.err"
"${STAMINA}" --server="127.0.0.1:${PORT}" sample family --prompt='a photo of a face' \
  --count=16 --steps=200 --out="${TEST_TMPDIR}/samples" > /dev/null 2> "${SAMPLE_ERR}" &
CLIENT=$!
await_line "${SAMPLE_ERR}" "DENOISING" "${CLIENT}" || fail "the sample never started denoising"

START=${SECONDS}
kill -TERM "${SERVER}"
for _ in $(seq 1 300); do
  kill -0 "${SERVER}" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "${SERVER}" 2>/dev/null; then
  fail "staminad still running $(( SECONDS - START )) s after SIGTERM"
fi
set +e
wait "${SERVER}"
RC=$?
wait "${CLIENT}"
CLIENT_RC=$?
set -e
trap - EXIT
ELAPSED=$(( SECONDS - START ))
[[ ${RC} -eq 0 ]] || fail "staminad exited ${RC}"
(( ELAPSED <= GRACE + 10 )) || fail "staminad took ${ELAPSED} s to exit (grace ${GRACE} s)"
[[ ${CLIENT_RC} -ne 0 ]] || fail "the interrupted sample reported success"
grep -q "shutting down" "${TEST_TMPDIR}/staminad.err" || fail "no shutdown line"
echo "PASS: staminad exited ${ELAPSED} s after SIGTERM during a 3200-step Sample"
