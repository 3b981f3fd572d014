#!/usr/bin/env bash
# Points the Bazel build at another LibTorch (bazel/libtorch.bzl):
#
#   tools/libtorch/configure.sh FOLDER [CUDA_INCLUDE_DIR]   # write libtorch.bazelrc
#   tools/libtorch/configure.sh --reset                     # back to Debian's
#
# FOLDER holds include/ and lib/: a PyTorch wheel's torch/ folder, an
# unpacked libtorch zip, or tools/libtorch/debian_folder.sh's view of
# Debian's LibTorch. For a CUDA LibTorch, CUDA_INCLUDE_DIR (default
# /usr/local/cuda/include) must hold cuda_runtime_api.h. Then build as usual:
# `bazel build //...`, `./stamina.sh test`.
set -euo pipefail

workspace="$(cd "$(dirname "$0")/../.." && pwd)"
rc_file="${workspace}/libtorch.bazelrc"

if [[ "${1:-}" == "--reset" ]]; then
  rm -f "${rc_file}"
  echo "libtorch.bazelrc removed: building against Debian's LibTorch"
  exit 0
fi
if [[ $# -lt 1 ]]; then
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi

folder="$(cd "$1" && pwd)"
for required in include/torch/csrc/api/include/torch/torch.h include/ATen/ATen.h \
    lib/libtorch.so lib/libtorch_cpu.so lib/libc10.so; do
  if [[ ! -e "${folder}/${required}" ]]; then
    echo "configure.sh: ${folder} has no ${required}: not a LibTorch folder" >&2
    exit 1
  fi
done

{
  echo "# Written by tools/libtorch/configure.sh on $(date -u +%Y-%m-%d); --reset removes it."
  echo "build --repo_env=STAMINA_LIBTORCH=${folder}"
  if [[ -e "${folder}/lib/libtorch_cuda.so" ]]; then
    cuda_include="$(cd "${2:-/usr/local/cuda/include}" && pwd)"
    if [[ ! -e "${cuda_include}/cuda_runtime_api.h" ]]; then
      echo "configure.sh: CUDA LibTorch, but no cuda_runtime_api.h in ${cuda_include}" >&2
      exit 1
    fi
    echo "build --repo_env=STAMINA_CUDA_INCLUDE=${cuda_include}"
  fi
} > "${rc_file}.tmp"
mv "${rc_file}.tmp" "${rc_file}"
echo "libtorch.bazelrc: building against ${folder}"
if [[ -e "${folder}/lib/libtorch_cuda.so" ]]; then
  echo "  (CUDA: libtorch_cuda.so found; run GPU tests with --test_tag_filters=requires-gpu)"
fi
