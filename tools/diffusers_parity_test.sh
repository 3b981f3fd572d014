#!/usr/bin/env bash
# //tools:diffusers_parity on the fixture: one line per reference tensor and
# "parity: ok" with exit 0; with a tolerance nothing meets, "parity: FAILED"
# and a non-zero exit.
set -euo pipefail
PARITY="$1"
FIXTURE=testdata/diffusers-tiny-sd
OUT="${TEST_TMPDIR}/parity.out"
"${PARITY}" --checkpoint="${FIXTURE}/checkpoint" --reference="${FIXTURE}/reference.safetensors" \
  --threads=1 > "${OUT}" || { cat "${OUT}"; echo "FAIL: exit $?"; exit 1; }
tail -1 "${OUT}" | grep -qx "parity: ok" || { cat "${OUT}"; echo "FAIL: last line"; exit 1; }
grep -Eq "^unet.out.t999 [0-9.e+-]+$" "${OUT}" || { cat "${OUT}"; echo "FAIL: line"; exit 1; }
test "$(grep -vc '^#' "${OUT}")" -eq 14 || { cat "${OUT}"; echo "FAIL: 13 tensors"; exit 1; }
set +e
"${PARITY}" --checkpoint="${FIXTURE}/checkpoint" --reference="${FIXTURE}/reference.safetensors" \
  --threads=1 --tolerance=1e-12 --pipeline_tolerance=1e-12 > "${OUT}"
CODE=$?
set -e
test "${CODE}" -eq 1 || { cat "${OUT}"; echo "FAIL: exit ${CODE} over tolerance"; exit 1; }
tail -1 "${OUT}" | grep -qx "parity: FAILED" || { cat "${OUT}"; echo "FAIL: FAILED line"; exit 1; }
echo "diffusers_parity OK"
