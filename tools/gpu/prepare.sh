#!/usr/bin/env bash
# Prepares, on this Debian machine, what the GPU machine needs from outside
# the checkout (it has CMake, g++ 13, nvcc and a CUDA LibTorch in its PyTorch
# wheel, but no Bazel and no package access): gpu-carry/ (git-ignored),
# handed to the device tool's `carry`:
#
#   gpu-carry/sysroot/    Debian's Abseil, protobuf, gRPC, SQLite, libpng,
#                         nlohmann-json, GoogleTest... unpacked (dpkg -x),
#                         docs and unneeded static archives removed
#   gpu-carry/proto-gen/  the *.pb.{h,cc} Bazel generated here (protoc and
#                         its plugin would need more of Debian there)
#   gpu-carry/diffusers-*.tar.gz  the diffusers sources (../shared/peers), for
#                         the PyTorch-eager side (unpacked there: 64 MiB cap)
#
#   tools/gpu/prepare.sh            # then: tools/gpu/run.sh there (README)
set -euo pipefail

workspace="$(cd "$(dirname "$0")/../.." && pwd)"
carry="${workspace}/gpu-carry"
packages=(
  libabsl-dev libabsl20220623 libprotobuf-dev libprotobuf32
  libgrpc++-dev libgrpc++1.51 libgrpc-dev libgrpc29 libc-ares2 libre2-9 libssl3
  libsqlite3-dev libsqlite3-0 libpng-dev libpng16-16 zlib1g-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libgoogle-glog-dev libgoogle-glog0v6 libgflags-dev
  libgflags2.2 libunwind8 grpc-proto libcurl4-openssl-dev libcurl4 libjemalloc-dev libjemalloc2
)

rm -rf "${carry}"
mkdir -p "${carry}/debs" "${carry}/sysroot" "${carry}/proto-gen"
(cd "${carry}/debs" && apt-get download "${packages[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
for deb in "${carry}"/debs/*.deb; do
  dpkg -x "${deb}" "${carry}/sysroot"
done
rm -rf "${carry}/debs"
# Shared libraries are what links; keep the static archives only of the
# libraries Debian ships static-only (GoogleTest).
find "${carry}/sysroot" -name '*.a' ! -name 'libgtest*.a' ! -name 'libgmock*.a' -delete
rm -rf "${carry}/sysroot/usr/share/doc" "${carry}/sysroot/usr/share/man" \
  "${carry}/sysroot/usr/share/lintian" "${carry}/sysroot/usr/src"

cd "${workspace}"
bazel build //protos:stamina_v1_cc_grpc //protos:stamina_internal_v1_cc_grpc \
  @grpc_proto//:health_cc_grpc @grpc_proto//:reflection_cc_grpc
bin="$(bazel info bazel-bin)"
mkdir -p "${carry}/proto-gen/protos" "${carry}/proto-gen/grpc_proto"
(cd "${bin}/protos" && find . \( -name '*.pb.h' -o -name '*.pb.cc' \) \
  -exec cp --parents {} "${carry}/proto-gen/protos" \;)
(cd "${bin}/external/grpc_proto" && find . \( -name '*.pb.h' -o -name '*.pb.cc' \) \
  -exec cp --parents {} "${carry}/proto-gen/grpc_proto" \;)
cp "${workspace}"/../shared/peers/diffusers-*-src.tar.gz "${carry}/"
# The benchmark's oracle (bench/oracle_file.h), so bench:continual on the GPU
# need not train it there first (~15 minutes of CPU).
cp "${HOME:-/root}"/.cache/stamina/oracle-6000-r1.safetensors "${carry}/" 2>/dev/null ||
  echo "no oracle in ~/.cache/stamina: bench:continual --device=cuda will be skipped there"
echo "gpu-carry: $(du -sh "${carry}" | cut -f1) ($(find "${carry}" -type f | wc -l) files)"
