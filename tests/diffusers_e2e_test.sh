#!/usr/bin/env bash
# A Stable Diffusion checkpoint in diffusers' folder layout as staminad's
# base model (issue #20), end to end with the real binaries: the fixture
# diffusers made (testdata/diffusers-tiny-sd) is registered under its own
# id, a concept is uploaded, trained with the service's STAMINA defaults and
# sampled; capabilities report the checkpoint's native side. The version is
# then exported (diffusers folder and adapters), and a second staminad with
# the exported folder as its base model draws the same PNG bytes as the
# first one's version for the same prompt and seed.
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
# The other samplers draw their own images from the same seed.
for sampler in pndm euler; do
  cli sample fam --prompt='a photo of <anna>' --count=1 --steps=5 --seed=3 --sampler="${sampler}" \
    --out="${T}/${sampler}" || fail "sample --sampler=${sampler}"
  cmp -s "$(ls "${T}/a"/*-0.png)" "$(ls "${T}/${sampler}"/*.png)" && fail "${sampler} drew DDIM's bytes"
done

cli export fam --out="${T}/export" || fail "export"
grep -q "exported models/fam/versions/1 to ${T}/export" "${OUT}" || fail "export output"
for f in model_index.json unet/diffusion_pytorch_model.safetensors vae/config.json \
         text_encoder/model.safetensors tokenizer/vocab.json scheduler/scheduler_config.json; do
  test -s "${T}/export/${f}" || fail "export lacks ${f}"
done
grep -q '"<anna>": 618' "${T}/export/tokenizer/added_tokens.json" || fail "added token"
cli export fam --format=adapters --out="${T}/adapters" || fail "export adapters"
test -s "${T}/adapters/adapters/001-anna.safetensors" || fail "adapter file"
grep -q '"token": "<anna>"' "${T}/adapters/lineage.json" || fail "lineage.json"

# The export as another staminad's base model: same weights, same bytes.
cli sample fam --prompt='a photo of' --count=1 --steps=5 --seed=4 --out="${T}/head" \
  || fail "sample head"
FIRST_PORT="${PORT}"
PORT="$(free_port)"
"${STAMINAD}" --listen="127.0.0.1:${PORT}" --data_dir="${T}/data2" --bootstrap_tenant=sd2 \
  --base_model=exported --base_model_dir="${T}/export" --torch_threads=1 \
  > "${T}/staminad2.out" 2> "${T}/staminad2.err" &
SECOND=$!
trap 'kill -TERM ${SERVER} ${SECOND} 2>/dev/null || true; wait 2>/dev/null || true' EXIT
KEY2="$(staminad_key "${T}/staminad2.err" "${SECOND}" "${T}/data2/bootstrap-sd2.key")" || { cat "${T}/staminad2.err"; fail "second staminad"; }
STAMINA_API_KEY="${KEY2}" cli models create again --base=baseModels/exported \
  || fail "models create on the export"
STAMINA_API_KEY="${KEY2}" cli sample again --prompt='a photo of' --count=1 --steps=5 --seed=4 \
  --out="${T}/again" || fail "sample the export"
cmp "$(ls "${T}/head"/*.png)" "$(ls "${T}/again"/*.png)" || fail "the export draws other bytes"
# Its concept token too: the base model knows <anna> now.
STAMINA_API_KEY="${KEY2}" cli sample again --prompt='a photo of <anna>' --count=1 --steps=5 \
  --seed=3 --out="${T}/again-anna" || fail "sample <anna> on the export"
cmp "$(ls "${T}/a"/*-0.png)" "$(ls "${T}/again-anna"/*.png)" \
  || fail "the export draws <anna> differently"
test "${FIRST_PORT}" != "${PORT}"
echo "diffusers checkpoint end to end OK"
