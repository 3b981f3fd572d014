#!/usr/bin/env bash
# staminad restarted with jobs queued and running, end to end with the real
# binaries: <anna> is training and <mill> queued when staminad gets SIGTERM;
# the running job is handed back, and after a restart on the same data
# directory both complete in order (anna on its second attempt), with
# exactly two versions and nothing lost. The random stamina-test-tiny
# architecture keeps training fast.
set -euo pipefail
STAMINAD="$1"
STAMINA="$2"
RENDER="$3"
T="${TEST_TMPDIR}"
source tests/e2e_lib.sh

PORT="$(free_port)"
OUT="${T}/cli.out"
restartable_staminad rs

start 1 || fail "staminad did not start"
cli models create fam --base=baseModels/stamina-test-tiny || fail "models create"
render_concept fam anna face
render_concept fam mill landmark
cli train fam anna --steps=150 --no_wait || fail "train anna"
ANNA="$(grep -o 'models/fam/jobs/[a-z0-9]*' "${OUT}" | head -1 | cut -d/ -f4)"
cli train fam mill --steps=5 --no_wait || fail "train mill"
MILL="$(grep -o 'models/fam/jobs/[a-z0-9]*' "${OUT}" | head -1 | cut -d/ -f4)"
await_training fam "${ANNA}" || fail "anna never trained"
cli jobs get fam "${MILL}" || fail "jobs get mill"
grep -q "QUEUED" "${OUT}" || fail "mill is not queued"

stop
grep -q "signal 15, shutting down" "${T}/staminad-1.err" || fail "no graceful shutdown"
start 2 || fail "staminad did not restart"

cli jobs watch fam "${MILL}" || fail "watch mill"
cli jobs get fam "${ANNA}" || fail "jobs get anna after"
grep -q "SUCCEEDED" "${OUT}" || fail "anna did not succeed"
grep -Eq "attempt +2" "${OUT}" || fail "anna was not handed back and retried once"
cli jobs get fam "${MILL}" || fail "jobs get mill after"
grep -q "SUCCEEDED" "${OUT}" || fail "mill did not succeed"
cli lineage fam || fail "lineage"
grep -Eq "^1 +1 +<anna>" "${OUT}" || fail "anna is not version 1"
grep -Eq "^2 +2 +<mill>" "${OUT}" || fail "mill is not version 2"
cli versions fam || fail "versions"
test "$(grep -c '<' "${OUT}")" -eq 2 || fail "not exactly two versions"
echo "restart end to end OK"
