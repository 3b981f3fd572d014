#!/usr/bin/env bash
# EraseConcept end to end with the real binaries: a model learns <anna>,
# <mill> and <rex>; <yew> is training and <zed> queued when <mill> is erased
# by replay (yew is handed back to the queue, then cancelled). The erasure
# removes mill's image and adapter files at once and makes versions 2 and 3
# unservable; rex is trained again on version 1 before zed runs; staminad is
# killed (SIGKILL) in the middle of the replay and, restarted on the same
# data directory, finishes it: one head, lineage anna → rex → zed, the
# erasure recorded. The random stamina-test-tiny architecture keeps it fast.
set -euo pipefail
STAMINAD="$1"
STAMINA="$2"
RENDER="$3"
T="${TEST_TMPDIR}"
source tests/e2e_lib.sh

PORT="$(free_port)"
OUT="${T}/cli.out"
restartable_staminad er
job_of() { grep -o 'models/fam/jobs/[a-z0-9]*' "${OUT}" | head -1 | cut -d/ -f4; }
blob_files() { find "${T}/data/blobs" -type f -name "$1*" | wc -l; }

start 1 || fail "staminad did not start"
cli models create fam --base=baseModels/stamina-test-tiny || fail "models create"
render_concept fam anna face 1000000
render_concept fam mill landmark 2000000
render_concept fam rex face 3000000
cli train fam anna --steps=5 || fail "train anna"
cli train fam mill --steps=5 || fail "train mill"
cli train fam rex --steps=200 --seed=7 || fail "train rex"
cli lineage fam || fail "lineage before"
MILL_ADAPTER="$(awk '$3 == "<mill>" {print $5}' "${OUT}")"
REX_ADAPTER="$(awk '$3 == "<rex>" {print $5}' "${OUT}")"
[[ -n "${MILL_ADAPTER}" && -n "${REX_ADAPTER}" ]] || fail "no adapters in the lineage"
test "$(blob_files "${MILL_ADAPTER}")" -eq 1 || fail "mill's adapter is not on disk"
MILL_IMAGES=()
for f in "${T}"/mill/*.png; do MILL_IMAGES+=("$(sha256sum "${f}" | cut -d' ' -f1)"); done
for d in "${MILL_IMAGES[@]}"; do test "$(blob_files "${d}")" -eq 1 || fail "mill image ${d} missing"; done

# <yew> is training (on a head that contains <mill>) and <zed> is queued
# behind it when <mill> is erased.
render_concept fam yew face 5000000
render_concept fam zed landmark 4000000
cli train fam yew --steps=400 --no_wait || fail "train yew"
YEW="$(job_of)"
cli train fam zed --steps=5 --no_wait || fail "train zed"
ZED="$(job_of)"
await_training fam "${YEW}" || fail "yew never started"

cli concepts erase fam mill --no_wait || fail "concepts erase"
grep -q "versions removed: 2, 3" "${OUT}" || fail "versions 2 and 3 not removed"
grep -q "restarts from: models/fam/versions/1" "${OUT}" || fail "not restarting from version 1"
REPLAY="$(grep -o 'replaying 1 later concept(s): models/fam/jobs/[a-z0-9]*' "${OUT}" | cut -d/ -f4)"
[[ -n "${REPLAY}" ]] || fail "no replay job"
# Gone from disk before the call returned: mill's images and both adapters
# that were trained on a model containing it.
for d in "${MILL_IMAGES[@]}"; do test "$(blob_files "${d}")" -eq 0 || fail "mill image ${d} kept"; done
test "$(blob_files "${MILL_ADAPTER}")" -eq 0 || fail "mill's adapter kept"
test "$(blob_files "${REX_ADAPTER}")" -eq 0 || fail "rex's old adapter (trained on mill) kept"
# yew was handed back to the queue (nothing trained on mill is committed);
# it is cancelled here to keep the test short.
cli jobs get fam "${YEW}" || fail "jobs get yew"
grep -q "QUEUED" "${OUT}" || fail "yew was not handed back"
cli jobs cancel fam "${YEW}" || fail "cancel yew"
cli concepts list fam || fail "concepts list"
grep -q "mill" "${OUT}" && fail "mill still listed"
# The erased versions are not servable; the head is version 1 meanwhile.
"${STAMINA}" --server="127.0.0.1:${PORT}" sample fam --version=3 --prompt='a photo of <rex>' \
  --out="${T}/old" > "${OUT}" 2> "${T}/cli.err" && fail "sampled an erased version"
grep -q "was erased by models/fam/erasures/" "${T}/cli.err" || fail "no erasure in the refusal"

# SIGKILL in the middle of the replay; the restarted staminad finishes it.
await_training fam "${REPLAY}" || fail "the replay never started"
kill -KILL "${SERVER}"; wait "${SERVER}" 2>/dev/null || true
start 2 || fail "staminad did not restart"
cli jobs watch fam "${REPLAY}" || fail "watch the replay"
cli jobs watch fam "${ZED}" || fail "watch zed"
cli lineage fam || fail "lineage after"
grep -Eq "^1 +1 +<anna>" "${OUT}" || fail "anna is not first"
grep -Eq "^2 +[0-9]+ +<rex> .* 3 *$" "${OUT}" || fail "rex is not second, replaying version 3"
grep -Eq "^3 +[0-9]+ +<zed>" "${OUT}" || fail "zed did not run after the replay"
grep -q "erased <mill> by " "${OUT}" || fail "the lineage does not show the erasure"
grep -q "<mill>" <(grep -E "^[0-9]" "${OUT}") && fail "mill is in the lineage"
HEAD="$(grep -o 'lineage of models/fam/versions/[0-9]*' "${OUT}" | cut -d/ -f4)"
cli versions fam || fail "versions"
test "$(grep -c '<' "${OUT}")" -eq 3 || fail "not exactly three versions"
# The proof of erasure: the head's drift from the base model on "a photo of
# <mill>" before (measured by the first staminad) and after (measured in the
# background once the replay finished).
for _ in $(seq 1 300); do
  cli erasures fam || fail "erasures"
  grep -q -- "-> ?" "${OUT}" || break
  sleep 0.1
done
grep -Eq "<mill> +replay +SUCCEEDED +2, 3 +1/1 +0\.[0-9]{4} -> 0\.[0-9]{4} +apiKeys/" "${OUT}" \
  || fail "erasure not SUCCEEDED with its proof"

# CompareVersions: a version against itself draws the same bytes (drift 0);
# version 1 (anna only) against the head differs where <rex> was learned.
cli compare fam head "${HEAD}" --out="${T}/same" || fail "compare head with itself"
test "$(grep -c ' 0.0000$' "${OUT}")" -eq 3 || fail "a version differs from itself"
cli compare fam 1 "${HEAD}" --out="${T}/cmp" || fail "compare 1 with the head"
grep -Eq "^a photo of <anna> +[0-9.]+$" "${OUT}" || fail "no <anna> row"
grep -Eq "^a photo of <rex> +0\.0*[1-9][0-9]*$" "${OUT}" || fail "<rex> did not move from version 1"
test "$(head -c 8 "${T}/cmp/compare.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a \
  || fail "no contact sheet"
cp "${T}/cmp/compare.png" "${TEST_UNDECLARED_OUTPUTS_DIR:-${T}}/" || true
"${STAMINA}" --server="127.0.0.1:${PORT}" compare fam 2 "${HEAD}" --out="${T}/old" \
  > "${OUT}" 2> "${T}/cli.err" && fail "compared an erased version"
grep -q "was erased by" "${T}/cli.err" || fail "no erasure in the compare refusal"
echo "erase end to end OK"
