#!/usr/bin/env bash
# Writes OUT as a LibTorch folder (include/, lib/) made of symbolic links to
# Debian's CPU LibTorch (libtorch-dev), so that the path a CUDA LibTorch
# takes (tools/libtorch/configure.sh, CMakeLists.txt's STAMINA_LIBTORCH) is
# proven on machines that only have Debian's:
#
#   tools/libtorch/debian_folder.sh /tmp/libtorch-debian
#   tools/libtorch/configure.sh /tmp/libtorch-debian
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 OUT" >&2
  exit 2
fi
out="$1"
multiarch="$(gcc -print-multiarch)"
mkdir -p "${out}/include" "${out}/lib"
for dir in ATen c10 caffe2 torch; do
  ln -sfn "/usr/include/${dir}" "${out}/include/${dir}"
done
for lib in libtorch libtorch_cpu libc10; do
  if [[ ! -e "/usr/lib/${multiarch}/${lib}.so" ]]; then
    echo "debian_folder.sh: no /usr/lib/${multiarch}/${lib}.so (apt install libtorch-dev)" >&2
    exit 1
  fi
  ln -sfn "/usr/lib/${multiarch}/${lib}.so" "${out}/lib/${lib}.so"
done
echo "${out}: Debian's LibTorch as a LibTorch folder"
