#!/usr/bin/env bash
# File: tools/fuzz.sh
#
# Builds the libFuzzer targets with Debian's clang++ (no Bazel: the workspace
# builds with gcc, and -fsanitize=fuzzer needs clang) and runs each for a
# fixed time on its committed seed corpus, testdata/fuzz/<target>/:
#   image_decoder_fuzz     images/image_decoder_fuzz.cc   PNG/JPEG/WebP uploads
#   safetensors_fuzz       core/io/safetensors_fuzz.cc    safetensors files
#   diffusers_config_fuzz  core/pipelines/diffusers_config_fuzz.cc
#   request_fuzz           server/request_fuzz.cc         request protos
# Each target states its contract in its header and traps on a violation.
#
#   tools/fuzz.sh                        # every target, 60 s each
#   FUZZ_SECONDS=10 tools/fuzz.sh request_fuzz
#
# Environment:
#   FUZZ_SECONDS  seconds per target (default 60; libFuzzer -max_total_time)
#   FUZZ_OUT      build products, logs, scratch corpora and crash inputs
#                 (default /tmp/stamina-fuzz; objects are reused between runs)
#   FUZZ_MERGE=1  afterwards, merge the new inputs that add coverage into the
#                 committed corpus (libFuzzer -merge=1); otherwise they stay
#                 in $FUZZ_OUT/corpus/<target>/ until the next run (each run
#                 starts from the committed seeds only)
#   CXX           default clang++-14 (package clang-14 + libclang-rt-14-dev)
#   FUZZ_JOBS     parallel compiles (default 1: the machine is shared)
#
# Prints per target: executions, coverage (libFuzzer's final cov: and ft:),
# corpus size, and crashes (crash/leak/timeout/oom inputs, kept under
# $FUZZ_OUT/artifacts/<target>/). Exits 1 if any target crashed, 2 if a build
# failed.
# shellcheck disable=SC2317  # compile and stale run through spawn.
set -euo pipefail

cd "$(dirname "$0")/.."
readonly ROOT="$PWD"
readonly SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
readonly OUT="${FUZZ_OUT:-/tmp/stamina-fuzz}"
readonly CXX="${CXX:-clang++-14}"
readonly JOBS="${FUZZ_JOBS:-1}"
readonly ALL_TARGETS=(image_decoder_fuzz safetensors_fuzz diffusers_config_fuzz
                      request_fuzz)
if (($# > 0)); then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi

# ---------------------------------------------------------------- sources --
# Each target's translation units: its harness first, then the project code
# it links (the closure of its Bazel deps that the link needs).
declare -A SOURCES
SOURCES[image_decoder_fuzz]="images/image_decoder_fuzz.cc images/image_decoder.cc
  images/png_codec.cc images/jpeg_codec.cc images/webp_codec.cc
  images/exif_orientation.cc images/pixel_ops.cc common/status_util.cc"
SOURCES[safetensors_fuzz]="core/io/safetensors_fuzz.cc core/io/safetensors.cc
  core/io/safetensors_header.cc core/torch_status.cc common/status_util.cc"
SOURCES[diffusers_config_fuzz]="core/pipelines/diffusers_config_fuzz.cc
  core/pipelines/diffusers_config.cc core/models/unet_2d_condition.cc
  core/models/unet_2d_blocks.cc core/models/autoencoder_kl.cc core/models/vae.cc
  core/models/clip_text_model.cc core/nn/attention.cc core/nn/attention_ops.cc
  core/nn/embeddings.cc core/nn/resnet.cc core/schedulers/ddim_scheduler.cc
  core/schedulers/ddpm_scheduler.cc core/schedulers/beta_schedule.cc
  core/tokenizers/clip_tokenizer.cc core/tokenizers/tokenizer.cc
  core/io/file_bytes.cc core/torch_status.cc common/status_util.cc"
SOURCES[request_fuzz]="server/request_fuzz.cc server/sample_request.cc
  server/training_settings.cc rpc/sample_messages.cc rpc/resource_names.cc
  common/ids.cc common/status_util.cc storage/sha256.cc"
# Generated protobuf code request_fuzz links (compiled from $OUT/gen).
readonly PROTOS=(stamina/v1/concept.proto stamina/v1/job.proto
                 stamina/v1/model.proto stamina/v1/sampler_service.proto
                 stamina/v1/training_service.proto
                 stamina/internal/v1/sampler_backend.proto)

# The absl libraries the workspace links, read from its @system//:absl rule
# so the two never drift apart.
mapfile -t ABSL_LIBS < <(sed -n '/name = "absl",/,/\]/p' \
  third_party/system.BUILD | grep -o -- '-labsl_[a-z0-9_]*')
declare -A LIBS
LIBS[image_decoder_fuzz]="-lpng16 -ljpeg -lwebpdemux -lwebp"
LIBS[safetensors_fuzz]="-ltorch -ltorch_cpu -lc10"
LIBS[diffusers_config_fuzz]="-ltorch -ltorch_cpu -lc10"
LIBS[request_fuzz]="-lprotobuf -lcrypto"

# UBSan findings stop the run too (by default it only prints and goes on).
readonly SANITIZE=("-fsanitize=address,undefined" -fno-sanitize-recover=all)
readonly CXXFLAGS=(-std=c++17 -g -O1 -fno-omit-frame-pointer
  -fsanitize=fuzzer-no-link "${SANITIZE[@]}"
  -I"$ROOT" -I"$OUT/gen" -isystem /usr/include/torch/csrc/api/include)
# As the workspace's .bazelrc, for the project's own files.
readonly WARNINGS=(-Wall -Wextra -Werror -Wno-missing-field-initializers)

log() { printf '%s\n' "$*" >&2; }

# ------------------------------------------------------------------ build --
# True when $1.o is missing or older than a file its .d names.
stale() {
  local obj="$1" dep="${1%.o}.d"
  [[ -f "$obj" && -f "$dep" ]] || return 0
  local file
  # shellcheck disable=SC2013  # .d files list words (paths), not lines.
  for file in $(sed -e 's/^[^:]*://' -e 's/\\$//' "$dep"); do
    [[ "$file" -nt "$obj" ]] && return 0
  done
  return 1
}

# compile SRC OBJ [extra flags...]
compile() {
  local src="$1" obj="$2"
  shift 2
  stale "$obj" || return 0
  mkdir -p "$(dirname "$obj")"
  log "  CXX $src"
  "$CXX" "${CXXFLAGS[@]}" "$@" -MMD -MF "${obj%.o}.d" -c "$src" -o "$obj"
}

generate_protos() {
  local gen="$OUT/gen" proto needed=0
  for proto in "${PROTOS[@]}"; do
    [[ "protos/$proto" -nt "$gen/${proto%.proto}.pb.cc" ]] && needed=1
  done
  ((needed)) || return 0
  log "  PROTOC ${PROTOS[*]}"
  mkdir -p "$gen"
  # As bazel/grpc.bzl: protos/ is the proto root, well-known types come
  # from /usr/include. No gRPC stubs: the targets call no services.
  (cd protos && protoc -I. -I/usr/include --cpp_out="$gen" "${PROTOS[@]}")
}

# Runs "$@" in the background, at most $JOBS at a time; reap waits for the
# rest. FAILED counts the commands that failed.
PENDING=()
FAILED=0
spawn() {
  "$@" &
  PENDING+=($!)
  if ((${#PENDING[@]} >= JOBS)); then
    wait "${PENDING[0]}" || FAILED=$((FAILED + 1))
    PENDING=("${PENDING[@]:1}")
  fi
}
reap() {
  local pid
  for pid in "${PENDING[@]}"; do wait "$pid" || FAILED=$((FAILED + 1)); done
  PENDING=()
}

build_target() {
  local target="$1" objs=() src obj
  FAILED=0
  for src in ${SOURCES[$target]}; do
    obj="$OUT/obj/${src%.cc}.o"
    objs+=("$obj")
    spawn compile "$src" "$obj" "${WARNINGS[@]}"
  done
  if [[ "$target" == request_fuzz ]]; then
    local proto
    for proto in "${PROTOS[@]}"; do
      obj="$OUT/obj/gen/${proto%.proto}.pb.o"
      objs+=("$obj")
      spawn compile "$OUT/gen/${proto%.proto}.pb.cc" "$obj"
    done
  fi
  reap
  ((FAILED == 0)) || return 1
  local bin="$OUT/bin/$target" newest=0
  for obj in "${objs[@]}"; do [[ "$obj" -nt "$bin" ]] && newest=1; done
  ((newest)) || return 0
  mkdir -p "$OUT/bin"
  log "  LINK $target"
  # shellcheck disable=SC2086  # LIBS entries are word lists.
  "$CXX" -fsanitize=fuzzer "${SANITIZE[@]}" "${objs[@]}" ${LIBS[$target]} \
    "${ABSL_LIBS[@]}" -lpthread -o "$bin"
}

log "== build (${CXX}, into $OUT)"
for target in "${TARGETS[@]}"; do
  [[ -n "${SOURCES[$target]:-}" ]] || { log "unknown target $target"; exit 2; }
  [[ "$target" == request_fuzz ]] && generate_protos
  if ! build_target "$target"; then log "build of $target failed"; exit 2; fi
done

# -------------------------------------------------------------------- run --
# Inputs are capped at 64 KiB (seeds are a few KiB); 2 GiB of RSS and 10 s
# per input count as findings (oom-*, timeout-*), as hangs and memory blowups
# are denial of service.
status=0
summary=()
for target in "${TARGETS[@]}"; do
  seeds="testdata/fuzz/$target"
  scratch="$OUT/corpus/$target"
  artifacts="$OUT/artifacts/$target"
  run_log="$OUT/logs/$target.log"
  # Every run starts from the committed seeds alone, so runs compare.
  rm -rf "$scratch" "$artifacts"
  mkdir -p "$scratch" "$artifacts" "$OUT/logs"
  log "== run $target for ${SECONDS_PER_TARGET} s (log: $run_log)"
  # New inputs go to the first corpus directory: the scratch one.
  rc=0
  "$OUT/bin/$target" -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$scratch" "$seeds" >"$run_log" 2>&1 || rc=$?
  # The final status line (#N DONE, or the last one before a crash).
  last=$(grep -E '^#[0-9]+' "$run_log" | tail -n 1 || true)
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$run_log" |
          grep -o '[0-9]*$' || true)
  [[ -n "$execs" ]] || execs=$(sed -E 's/^#([0-9]+).*/\1/' <<<"$last")
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
  corp=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' <<<"$last" | cut -d' ' -f2 || true)
  crashes=$(find "$artifacts" -type f | wc -l)
  line=$(printf '%-22s execs %-9s cov %-6s ft %-6s corpus %-12s crashes %s' \
    "$target" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes")
  if ((crashes > 0 || rc != 0)); then
    status=1
    line+="  (rc $rc; inputs in $artifacts)"
  fi
  summary+=("$line")
  if [[ "${FUZZ_MERGE:-0}" == 1 ]]; then
    log "== merge new coverage into $seeds"
    "$OUT/bin/$target" -merge=1 -max_len=65536 -rss_limit_mb=2048 \
      "$seeds" "$scratch" >>"$run_log" 2>&1
  fi
done

echo "== fuzz summary (${SECONDS_PER_TARGET} s per target; corpus: inputs/bytes)"
printf '%s\n' "${summary[@]}"
exit "$status"
