#!/usr/bin/env bash
# Builds Stamina's container image from Debian packages, as an OCI archive:
#
#   tools/images/build.sh [OUT_DIR]     (./stamina.sh images calls it)
#
# One image, three entry points: /usr/bin/staminad (the default),
# /usr/bin/stamina-worker, /usr/bin/stamina-sampler, plus the stamina CLI
# (the backup CronJob) and the built-in base model under
# /usr/share/stamina/models/stamina-tiny-v1. The root filesystem is
# bookworm's runtime libraries of those binaries and their dependencies,
# extracted by mmdebstrap from the Debian archive (no dpkg, no apt, no shell:
# nothing in the image runs but the binaries), with the uid/gid 10001 user
# the manifests run as. SOURCE_DATE_EPOCH (default: the last commit's time)
# fixes every timestamp, so the same commit and the same Debian package
# versions give the same bytes.
#
# Writes OUT_DIR (default images-out/): stamina-oci.tar (load with
# `podman load -i` or `skopeo copy oci-archive:... docker://REGISTRY/stamina`),
# rootfs.tar, packages.txt (every Debian package and version inside), and
# context/ (the binaries and model with deploy/Dockerfile, for `docker build`).
# The GPU image is the same recipe on a CUDA base: docs/deploy.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$(realpath -m "${1:-${ROOT}/images-out}")"
cd "${ROOT}"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}"

# Direct runtime dependencies of the four binaries (readelf NEEDED mapped to
# packages), and OpenBLAS for LibTorch's matmuls (17x faster than the
# reference BLAS); mmdebstrap adds every dependency of these.
RUNTIME=(
  libtorch1.13 libopenblas0-openmp
  libgrpc++1.51 libgrpc29 libprotobuf32 libabsl20220623
  libsqlite3-0 libssl3
  libpng16-16 libjpeg62-turbo libwebp7 libwebpdemux2
  libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 libcivetweb1
  libgomp1 libstdc++6
)
BINARIES=(//app:staminad //worker:stamina-worker //sampler:stamina-sampler //cli:stamina)

for tool in mmdebstrap umoci; do
  command -v "${tool}" > /dev/null || { echo "images: ${tool} missing (./stamina.sh setup)" >&2; exit 1; }
done
echo "images: building ${BINARIES[*]} (-c opt)" >&2
bazel build -c opt "${BINARIES[@]}"
BIN="$(bazel info -c opt bazel-bin 2>/dev/null)"

rm -rf "${OUT}"
mkdir -p "${OUT}/stage/usr/bin" "${OUT}/stage/usr/share/stamina/models"
for target in app/staminad worker/stamina-worker sampler/stamina-sampler cli/stamina; do
  install -m 0755 "${BIN}/${target}" "${OUT}/stage/usr/bin/"
done
cp -r models/stamina-tiny-v1 "${OUT}/stage/usr/share/stamina/models/"

echo "images: root filesystem (mmdebstrap, bookworm)" >&2
# --mode=auto: root mode as root, else an unprivileged user namespace.
# extract: unpack the packages and their dependencies without running any
# maintainer script (there is no shell to run them); what those scripts
# would have done that the binaries need is done by the hooks below (the
# BLAS alternatives (the openmp OpenBLAS), the loader cache, the user). In this variant
# only --extract-hook runs (and dpkg's path-exclude does not apply).
mmdebstrap --variant=extract --mode=auto --quiet \
  --include="$(IFS=,; echo "${RUNTIME[*]}")" \
  --extract-hook='rm -rf "$1/usr/share/doc" "$1/usr/share/man" "$1/usr/share/locale" "$1/usr/share/lintian" "$1/usr/share/info"' \
  --extract-hook="cp -a '${OUT}/stage/.' \"\$1/\"" \
  --extract-hook='ln -sf /usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3 "$1/usr/lib/x86_64-linux-gnu/libblas.so.3"' \
  --extract-hook='ln -sf /usr/lib/x86_64-linux-gnu/openblas-openmp/liblapack.so.3 "$1/usr/lib/x86_64-linux-gnu/liblapack.so.3"' \
  --extract-hook='ln -sf /usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0 "$1/usr/lib/x86_64-linux-gnu/libopenblas.so.0"' \
  --extract-hook='ldconfig -r "$1"' \
  --extract-hook='printf "root:x:0:0:root:/root:/usr/sbin/nologin\nstamina:x:10001:10001:stamina:/var/lib/stamina:/usr/sbin/nologin\n" > "$1/etc/passwd"' \
  --extract-hook='printf "root:x:0:\nstamina:x:10001:\n" > "$1/etc/group"' \
  --extract-hook='mkdir -p "$1/proc" "$1/sys" "$1/dev" "$1/run"' \
  --extract-hook='mkdir -p "$1/var/lib/stamina" "$1/var/cache/stamina" "$1/tmp" && chown 10001:10001 "$1/var/lib/stamina" "$1/var/cache/stamina" && chmod 1777 "$1/tmp"' \
  --extract-hook='for f in "$1"/var/cache/apt/archives/*.deb; do dpkg-deb --show --showformat="\${Package} \${Version}\n" "$f"; done | sort > "$1/usr/share/stamina/packages.txt"' \
  --extract-hook="cp \"\$1/usr/share/stamina/packages.txt\" '${OUT}/packages.txt'" \
  --extract-hook='rm -rf "$1/var/cache/apt" "$1/var/lib/apt/lists" "$1/var/log"/*' \
  bookworm "${OUT}/rootfs.tar"

echo "images: OCI image (umoci)" >&2
CREATED="$(date -u -d "@${SOURCE_DATE_EPOCH}" +%Y-%m-%dT%H:%M:%SZ)"
umoci init --layout "${OUT}/oci"
umoci new --image "${OUT}/oci:stamina"
umoci unpack --image "${OUT}/oci:stamina" "${OUT}/bundle"
tar -C "${OUT}/bundle/rootfs" -xf "${OUT}/rootfs.tar"
# The layer first, then the config: repack starts from the unpacked
# image's config and would drop settings made before it.
umoci repack --image "${OUT}/oci:stamina" --history.created="${CREATED}" \
  --history.created_by="tools/images/build.sh" "${OUT}/bundle"
umoci config --image "${OUT}/oci:stamina" --created="${CREATED}" --no-history \
  --author="Stamina" --config.user=10001:10001 --config.workingdir=/var/lib/stamina \
  --config.entrypoint=/usr/bin/staminad \
  --config.exposedports=7070/tcp --config.exposedports=7071/tcp \
  --config.exposedports=9090/tcp --config.exposedports=8086/tcp \
  --config.label=org.opencontainers.image.title=stamina \
  --config.label="org.opencontainers.image.revision=$(git rev-parse HEAD)"
umoci gc --layout "${OUT}/oci"
tar --sort=name --mtime="@${SOURCE_DATE_EPOCH}" --owner=0 --group=0 --numeric-owner \
  -C "${OUT}/oci" -cf "${OUT}/stamina-oci.tar" .
rm -rf "${OUT}/bundle" "${OUT}/oci"
# The same files as a Docker build context (deploy/Dockerfile).
mv "${OUT}/stage" "${OUT}/context"
cp deploy/Dockerfile "${OUT}/context/"
echo "images: $(du -h "${OUT}/stamina-oci.tar" | cut -f1) ${OUT}/stamina-oci.tar" \
  "($(wc -l < "${OUT}/packages.txt" 2>/dev/null || echo '?') Debian packages)" >&2
