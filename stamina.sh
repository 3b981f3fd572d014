#!/usr/bin/env bash
# Stamina's one entry point.
#
#   ./stamina.sh setup   install every Debian package the project needs (idempotent;
#                        no apt work at all when everything is present)
#   ./stamina.sh test    setup, then `bazel test //...`, the check that
#                        CMakeLists.txt mirrors the BUILD files and the
#                        Kubernetes manifests' schema check and the Node
#                        SDK and web app tests (client_examples/node), then a closing
#                        line "N passed, N failed" counted from the results
#   ./stamina.sh demo    setup, build, run the service demo (tools/demo.sh)
#   ./stamina.sh build   setup, then `bazel build //...`
#   ./stamina.sh images  setup, then the container image as an OCI archive
#                        (tools/images/build.sh; images-out/ by default)
#
# Nothing here downloads anything except Debian packages through apt and,
# once, the pinned npm packages of deploy/kubernetes/validate.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "${ROOT}"

# Every Debian 12 package the project needs to build, test and run.
PACKAGES=(
  bazel-bootstrap g++ python3
  protobuf-compiler libprotobuf-dev
  libgrpc++-dev protobuf-compiler-grpc grpc-proto
  libabsl-dev libgoogle-glog-dev
  libtorch-dev libopenblas0-openmp
  libsqlite3-dev
  libjemalloc-dev  # the service binaries' allocator (common/allocator.h)
  libcurl4-openssl-dev  # webhook deliveries (webhooks/)
  libgtest-dev libgmock-dev libbenchmark-dev
  prometheus-cpp-dev libcivetweb-dev
  libpng-dev libjpeg62-turbo-dev libwebp-dev
  libssl-dev nlohmann-json3-dev
  prometheus  # promtool, for the metrics test
  openssl     # the TLS test's self-signed certificate
  python3-grpcio python3-grpc-tools python3-protobuf
  python3-yaml  # deploy/kubernetes's manifest test
  chromium      # the web app example's browser test (client_examples/node)
)

log() { printf '[stamina] %s\n' "$*" >&2; }

missing_packages() {
  local p status
  for p in "${PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "${p}" 2>/dev/null || true)"
    if [[ "${status}" != "install ok installed" ]]; then
      printf '%s\n' "${p}"
    fi
  done
  # Commands any packaging of which will do: the deploy checks render the
  # manifests with kubectl (Debian's kubernetes-client when there is none)
  # and validate them with node + npm.
  command -v kubectl > /dev/null || printf 'kubernetes-client\n'
  command -v node > /dev/null || printf 'nodejs\n'
  command -v npm > /dev/null || printf 'npm\n'
}

cmd_setup() {
  local missing
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} == 0)); then
    log "setup: all ${#PACKAGES[@]} packages present"
    return 0
  fi
  log "setup: installing ${missing[*]}"
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q \
    --no-install-recommends "${missing[@]}"
}

# Counts test results from Bazel's summary lines
# ("//pkg:target   PASSED in 0.4s", "FAILED", "TIMEOUT", "NO STATUS", ...).
count_results() {
  local log_file="$1" passed failed
  passed="$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "${log_file}" || true)"
  failed="$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|INCOMPLETE|FLAKY|FAILED TO BUILD)' "${log_file}" || true)"
  printf '%s %s\n' "${passed}" "${failed}"
}

# Runs a check outside Bazel and adds its result to LOG as Bazel would
# report a test: record_check LOG LABEL COMMAND...
record_check() {
  local log_file="$1" label="$2" result=PASSED
  "${@:3}" || result=FAILED
  printf '%-72s%s\n' "${label}" "${result}" >> "${log_file}"
  if [[ "${result}" == FAILED ]]; then printf '%-72s%s\n' "${label}" "${result}"; fi
}

cmd_test() {
  cmd_setup
  local log_file rc=0
  log_file="$(mktemp)"
  bazel test //... "$@" 2>&1 | tee "${log_file}" || rc=$?
  # CMakeLists.txt (the build for machines without Bazel) must mirror the
  # BUILD files: checked here, since a Bazel test cannot run bazel query.
  record_check "${log_file}" //:cmake_lists_current python3 tools/cmake/generate.py --check
  # The rendered manifests against the Kubernetes, KEDA and Prometheus
  # Operator schemas, and the Node SDK against the staminad just built (npm
  # packages, installed once): outside Bazel, whose sandbox has no
  # node_modules.
  record_check "${log_file}" //deploy/kubernetes:schemas deploy/kubernetes/validate/check.sh
  record_check "${log_file}" //client_examples/node:sdk client_examples/node/check.sh sdk
  record_check "${log_file}" //client_examples/node:webapp client_examples/node/check.sh webapp
  local passed failed
  read -r passed failed < <(count_results "${log_file}")
  rm -f "${log_file}"
  if ((rc != 0 && failed == 0)); then
    # The build itself broke (or bazel crashed) before any test reported.
    failed=1
  fi
  printf '%s passed, %s failed\n' "${passed}" "${failed}"
  ((failed == 0))
}

# The container image (tools/images/build.sh): an OCI archive built from
# Debian packages with mmdebstrap and umoci, in images-out/ (or $1).
cmd_images() {
  cmd_setup
  local tool missing=()
  for tool in mmdebstrap umoci; do
    command -v "${tool}" > /dev/null || missing+=("${tool}")
  done
  if ((${#missing[@]} > 0)); then
    log "images: installing ${missing[*]}"
    local sudo=()
    if [[ "$(id -u)" != 0 ]]; then sudo=(sudo); fi
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends \
      "${missing[@]}"
  fi
  tools/images/build.sh "$@"
}

cmd_build() {
  cmd_setup
  bazel build //... "$@"
}

# The service demo (tools/demo.sh): staminad + the stamina CLI train two
# concepts and sample them; results in demo-out/. Extra arguments go to bazel
# (e.g. --jobs=1, or -c opt). The default configuration is the test suite's,
# so `./stamina.sh test` and the demo share one build: the compute is in
# LibTorch, and -c opt made the demo no faster (54 s vs 57 s measured) while
# compiling the ~40 LibTorch-including files about a quarter slower.
cmd_demo() {
  cmd_setup
  local targets=(//app:staminad //cli:stamina //core/world:render //tools:contact_sheet)
  log "demo: building ${targets[*]}"
  bazel build "$@" "${targets[@]}"
  local bin
  bin="$(bazel info "$@" bazel-bin 2>/dev/null)"
  tools/demo.sh "${bin}"
}

main() {
  local command="${1:-}"
  shift || true
  case "${command}" in
    setup) cmd_setup "$@" ;;
    test) cmd_test "$@" ;;
    build) cmd_build "$@" ;;
    demo) cmd_demo "$@" ;;
    images) cmd_images "$@" ;;
    *)
      printf 'usage: %s {setup|test|demo|build|images} [bazel args... | images OUT_DIR]\n' "$0" >&2
      exit 2
      ;;
  esac
}

main "$@"
