#!/usr/bin/env bash
# A Stable Diffusion checkpoint in diffusers' folder layout as staminad's
# base model (issue #20), end to end with the real binaries: the fixture
# diffusers made (testdata/diffusers-tiny-sd) is registered under its own
# id, a concept is uploaded, trained with the service's STAMINA defaults and
# sampled; capabilities report the checkpoint's native side.
set -euo pipefail
STAMINAD="$1"
STAMINA="$2"
RENDER="$3"
T="${TEST_TMPDIR}"
source tests/e2e_lib.sh

OUT="${T}/cli.out"
cli() { "${STAMINA}" --server="127.0.0.1:${PORT}" "$@" > "${OUT}" 2> "${T}/cli.err"; }
fail() {
  echo "FAIL: $*"; echo "--- stdout"; cat "${OUT}"; echo "--- stderr"; cat "${T}/cli.err"
  echo "--- staminad"; cat "${T}/staminad.err"; exit 1
}

start_staminad sd --base_model=tiny-sd \
  --base_model_dir="${PWD}/testdata/diffusers-tiny-sd/checkpoint" --torch_threads=1 \
  || fail "staminad did not start"
export STAMINA_API_KEY="${KEY}"
grep -q "RANDOM weights" "${T}/staminad.err" && fail "staminad fell back to random weights"

cli capabilities || fail "capabilities"
grep -Eq "baseModels/tiny-sd +32 +64 " "${OUT}" || fail "capabilities sizes"
cli models create fam --base=baseModels/tiny-sd || fail "models create"
render_concept fam anna face
cli train fam anna --steps=10 --seed=1 || fail "train"
grep -q "SUCCEEDED" "${OUT}" || fail "train did not succeed"
cli sample fam --prompt='a photo of <anna>' --count=2 --steps=5 --seed=3 --out="${T}/a" \
  || fail "sample"
cli sample fam --prompt='a photo of <anna>' --count=1 --steps=5 --seed=3 --out="${T}/b" \
  || fail "sample again"
test "$(ls "${T}/a"/*.png | wc -l)" -eq 2 || fail "two PNGs"
# 32x32 RGB: the PNG header's width and height.
test "$(od -An -tx1 -j16 -N8 "$(ls "${T}/a"/*-0.png)" | tr -d ' \n')" = "0000002000000020" \
  || fail "PNG size"
cmp "$(ls "${T}/a"/*-0.png)" "$(ls "${T}/b"/*-0.png)" || fail "same seed, same bytes"
echo "diffusers checkpoint end to end OK"
