#!/usr/bin/env bash
# Builds and tests the Node packages against a real staminad (STAMINAD, by
# default bazel-bin/app/staminad, which `./stamina.sh test` has just built).
# The npm packages are pinned in each package-lock.json and installed once
# (`npm ci`, from the npm registry) into node_modules/; later runs are offline.
#
#   client_examples/node/check.sh [sdk|webapp]...   (default: both)
#
# The web app's browser test needs Debian's chromium (CHROMIUM overrides the
# path) and writes its screenshot where SCREENSHOT says, if set.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/../.." && pwd)"
export STAMINAD="${STAMINAD:-${ROOT}/bazel-bin/app/staminad}"
[[ -x "${STAMINAD}" ]] || { echo "no staminad at ${STAMINAD}: bazel build //app:staminad" >&2; exit 1; }

install() {
  if [[ ! -f "$1/node_modules/.package-lock.json" \
        || "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]]; then
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
}

packages=("$@")
((${#packages[@]} > 0)) || packages=(sdk webapp)
# Every package uses the SDK: install and build it first (proto types + tsc).
install "${HERE}/sdk"
(cd "${HERE}/sdk" && npm run --silent build)
for package in "${packages[@]}"; do
  install "${HERE}/${package}"
  (cd "${HERE}/${package}" && npm test)
done
