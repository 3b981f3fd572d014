#!/usr/bin/env bash
# The service demo behind `./stamina.sh demo` (which installs packages and
# builds first): starts staminad on a free localhost port with a fresh data
# directory and the built-in base model, then, with the stamina CLI only,
# creates a model and two concepts from rendered example images of two
# reserved identities (<anna>, a face; <tower>, a landmark), trains them one
# after the other with live progress, samples each concept and both together,
# prints the lineage and leaves everything in demo-out/. The server is
# stopped with SIGTERM (graceful) on success and on failure alike.
#
#   tools/demo.sh BIN_DIR          (BIN_DIR: the bazel-bin holding the binaries)
#
# Environment: DEMO_STEPS (training steps per concept, default 250),
# DEMO_TORCH_THREADS (staminad's --torch_threads, default 1: with all cores,
# OpenMP training slows down ~40x whenever another process holds a core),
# DEMO_GUIDANCE (sampling guidance scale, default 0 = the server's),
# DEMO_TRAIN_FLAGS (extra `stamina train` flags, e.g. --context=none to see
# the papers' STAMINA let <tower> take over <anna>),
# DEMO_OUT (default ./demo-out), DEMO_BASE_MODEL_DIR (default
# models/stamina-tiny-v1; when missing staminad uses random weights).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$1"
STAMINAD="${BIN}/app/staminad"
STAMINA="${BIN}/cli/stamina"
RENDER="${BIN}/core/world/render"
SHEET="${BIN}/tools/contact_sheet"
STEPS="${DEMO_STEPS:-250}"
GUIDANCE="${DEMO_GUIDANCE:-0}"
OUT="${DEMO_OUT:-${ROOT}/demo-out}"
BASE_DIR="${DEMO_BASE_MODEL_DIR:-${ROOT}/models/stamina-tiny-v1}"
MODEL=family
START=${SECONDS}

say() { printf '\n[demo] %s\n' "$*" >&2; }
die() { printf '[demo] FAILED: %s\n' "$*" >&2; exit 1; }

rm -rf "${OUT}"
mkdir -p "${OUT}"
DATA="$(mktemp -d "${TMPDIR:-/tmp}/stamina-demo.XXXXXX")"
SERVER=""
cleanup() {
  local rc=$?
  if [[ -n "${SERVER}" ]] && kill -0 "${SERVER}" 2>/dev/null; then
    kill -TERM "${SERVER}" 2>/dev/null || true
    wait "${SERVER}" 2>/dev/null || true
    printf '[demo] staminad stopped (SIGTERM)\n' >&2
  fi
  rm -rf "${DATA}"
  if ((rc != 0)); then
    printf '[demo] failed (exit %d); server log: %s/staminad.log\n' "${rc}" "${OUT}" >&2
  fi
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
say "starting staminad on 127.0.0.1:${PORT} (data ${DATA}, base model ${BASE_DIR})"
"${STAMINAD}" --listen="127.0.0.1:${PORT}" --data_dir="${DATA}/data" \
  --bootstrap_tenant=demo --base_model_dir="${BASE_DIR}" \
  --torch_threads="${DEMO_TORCH_THREADS:-1}" \
  > "${DATA}/staminad.out" 2> "${OUT}/staminad.log" &
SERVER=$!
KEY=""
for _ in $(seq 1 600); do
  # The bootstrap key is written to a file (mode 600), never printed.
  if grep -q '^staminad: serving ' "${OUT}/staminad.log" 2>/dev/null; then
    KEY="$(cat "${DATA}/data/bootstrap-demo.key")"
    break
  fi
  kill -0 "${SERVER}" 2>/dev/null || { cat "${OUT}/staminad.log" >&2; die "staminad exited"; }
  sleep 0.1
done
[[ -n "${KEY}" ]] || die "staminad wrote no API key within 60 s"
grep -qi 'random weights' "${OUT}/staminad.log" &&
  say "note: ${BASE_DIR} not found; the base model has random weights"
export STAMINA_API_KEY="${KEY}" STAMINA_SERVER="127.0.0.1:${PORT}"

run() {
  printf '$ stamina %s\n' "$*" >&2
  "${STAMINA}" "$@" || die "stamina $* (exit $?)"
}

say "example images of two reserved identities (never seen in pretraining)"
mkdir -p "${OUT}/uploads/anna" "${OUT}/uploads/tower"
"${RENDER}" --kind=face --seed=1000000 --count=1 --renders=5 \
  --out_dir="${OUT}/uploads/anna" > "${OUT}/uploads/anna.txt"
"${RENDER}" --kind=landmark --seed=1000001 --count=1 --renders=5 \
  --out_dir="${OUT}/uploads/tower" > "${OUT}/uploads/tower.txt"
sed 's/^0: /  <anna>:  /' "${OUT}/uploads/anna.txt" >&2
sed 's/^0: /  <tower>: /' "${OUT}/uploads/tower.txt" >&2

say "a model and two concepts"
run models create "${MODEL}" --display_name="Demo family"
run concepts create "${MODEL}" anna '<anna>' --caption='a photo of {}'
run concepts create "${MODEL}" tower '<tower>' --caption='a photo of {}'
run upload "${MODEL}" anna "${OUT}/uploads/anna"
run upload "${MODEL}" tower "${OUT}/uploads/tower"

say "training <anna>, then <tower> on top of it (${STEPS} steps each)"
# shellcheck disable=SC2086  # DEMO_TRAIN_FLAGS holds several flags
# Each token starts from the word for what it is (--token_initializer): anna
# is a face, the landmark a pyramid (uploads/*.txt describe them). Both sit
# centred in every example image, so they are flipped but not shifted
# (--augment=flip; bench/results/own-token-init measured the difference).
run train "${MODEL}" anna --steps="${STEPS}" --seed=1 --token_initializer=face \
  --augment=flip ${DEMO_TRAIN_FLAGS:-}
# shellcheck disable=SC2086
run train "${MODEL}" tower --steps="${STEPS}" --seed=2 --token_initializer=pyramid \
  --augment=flip ${DEMO_TRAIN_FLAGS:-}

say "sampling the head version (both concepts folded in)"
sample() {
  local dir="$1" prompt="$2"
  run sample "${MODEL}" --prompt="${prompt}" --count=5 --seed=7 --guidance="${GUIDANCE}" \
    --out="${OUT}/${dir}"
}
sample anna 'a photo of <anna>'
sample tower 'a photo of <tower>'
sample together 'a photo of <anna> and <tower>'
# The first version knew only <anna>: the same prompt there, for comparison.
run sample "${MODEL}" --prompt='a photo of <anna>' --version=1 --count=5 --seed=7 \
  --guidance="${GUIDANCE}" \
  --out="${OUT}/anna-v1"
# No token at all: neither concept may take over the shared words. Compared
# with the same prompt on a model that learned nothing (the base model).
sample no-token 'a photo of'
run models create plain --display_name="Nothing learned"
run sample plain --prompt='a photo of' --count=5 --seed=7 --guidance="${GUIDANCE}" \
  --out="${OUT}/no-token-base"

say "lineage"
run lineage "${MODEL}" | tee "${OUT}/lineage.txt"
run versions "${MODEL}" > "${OUT}/versions.txt"

# Contact sheet: one labelled row per prompt (uploads first).
"${SHEET}" --out="${OUT}/samples.png" --cols=5 --scale=4 \
  --row_labels="uploaded: <anna>|uploaded: <tower>|v1: a photo of <anna>|v2: a photo of <anna>|v2: a photo of <tower>|v2: a photo of <anna> and <tower>|v2: a photo of|base model: a photo of" \
  "${OUT}"/uploads/anna/*.png "${OUT}"/uploads/tower/*.png \
  "${OUT}"/anna-v1/*.png "${OUT}"/anna/*.png "${OUT}"/tower/*.png "${OUT}"/together/*.png \
  "${OUT}"/no-token/*.png "${OUT}"/no-token-base/*.png \
  || die "contact sheet"

say "done in $((SECONDS - START)) s. Everything is in ${OUT}/:"
cat >&2 <<EOF
  uploads/anna, uploads/tower   the example images that were uploaded
  anna/, tower/, together/      samples of the head version (v2)
  anna-v1/                      <anna> at version 1, before <tower> was taught
  no-token/, no-token-base/     "a photo of" (no token) at v2 and on the base model
  samples.png                   contact sheet, one labelled row per directory above
  lineage.txt, staminad.log     the lineage and the server's log
EOF
