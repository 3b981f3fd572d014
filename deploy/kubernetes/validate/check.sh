#!/usr/bin/env bash
# Renders every overlay with `kubectl kustomize` and validates each object
# against the Kubernetes 1.30+, KEDA and Prometheus Operator schemas plus the
# deployment's own rules (validate.mjs). The npm packages are pinned in
# package-lock.json and installed once (`npm ci`, from the npm registry)
# into node_modules/; later runs are offline.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KUBERNETES="$(dirname "${HERE}")"
if [[ ! -f "${HERE}/node_modules/.package-lock.json" \
      || "${HERE}/package-lock.json" -nt "${HERE}/node_modules/.package-lock.json" ]]; then
  (cd "${HERE}" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
status=0
for overlay in embedded cpu gpu; do
  rendered="$(mktemp)"
  # kubectl >= 1.27 warns that `bases` and `patches*` are deprecated; they
  # are kept because Debian's kubectl 1.20 knows nothing newer.
  if ! kubectl kustomize "${KUBERNETES}/overlays/${overlay}" > "${rendered}" 2> "${rendered}.err"; then
    cat "${rendered}.err" >&2
    status=1
  elif ! node "${HERE}/validate.mjs" "${overlay}" < "${rendered}"; then
    status=1
  fi
  rm -f "${rendered}" "${rendered}.err"
done
exit "${status}"
