#!/usr/bin/env bash
# `podman kube play` of the embedded overlay with the built image, then the
# demo flow through it with the stamina CLI (a tenant and key through the
# admin service, a model, an uploaded concept, training, a sample):
#
#   ./stamina.sh images && tools/images/podman_embedded.sh [images-out/stamina-oci.tar]
#
# Needs root, podman and catatonit (Debian), kubectl, /usr/bin/python3 with
# python3-yaml, and bazel-bin's stamina CLI and render tool. podman 4.3
# (bookworm) plays Pods, not StatefulSets or Services, so the overlay's
# StatefulSet becomes its pod template plus a claim for its volume, and
# the Secret volume a host directory holding the file as the kubelet would
# mount it (podman mounts Secret volumes world-readable, which staminad
# refuses for a secret, and crashes on one without `optional`). On machines with
# a hybrid cgroup hierarchy (cgroup v1 plus a v2 mount holding controllers)
# crun refuses to start: the script then runs podman in a private mount
# namespace without the v2 mount. Containers use the host network.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ARCHIVE="$(realpath "${1:-${ROOT}/images-out/stamina-oci.tar}")"
WORK="$(mktemp -d)"
BIN="${ROOT}/bazel-bin"
cd "${WORK}"

kubectl kustomize "${ROOT}/deploy/kubernetes/overlays/embedded" 2>/dev/null > embedded.yaml
/usr/bin/python3 - <<'PY'
import yaml
docs = [d for d in yaml.safe_load_all(open("embedded.yaml")) if d]
sts = next(d for d in docs if d["kind"] == "StatefulSet")
template = sts["spec"]["template"]
claim = sts["spec"]["volumeClaimTemplates"][0]
pod = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "staminad", "labels": template["metadata"]["labels"]},
       "spec": dict(template["spec"], hostNetwork=True)}
pod["spec"]["volumes"].append({"name": claim["metadata"]["name"],
                               "persistentVolumeClaim": {"claimName": "staminad-data"}})
for container in pod["spec"]["containers"]:
    container.pop("ports", None)  # host network: nothing to publish
# podman 4.3 mounts Secret volumes world-readable whatever defaultMode says,
# which staminad refuses for a secret; the kubelet's mount (root-owned, 0440,
# group = the pod's fsGroup) is stood in for by a host directory made so.
for volume in pod["spec"]["volumes"]:
    if "secret" in volume:
        name = volume["secret"]["secretName"]
        volume.pop("secret")
        volume["hostPath"] = {"path": f"{__import__('os').getcwd()}/secrets/{name}",
                              "type": "Directory"}
pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
       "metadata": {"name": "staminad-data"}, "spec": claim["spec"]}
yaml.safe_dump_all([pvc, pod], open("play.yaml", "w"))
PY
ADMIN="$(openssl rand -hex 32)"
(umask 077; printf 'admin ops %s\n' "${ADMIN}" > tokens; printf '%s' "${ADMIN}" > admin-token)
mkdir -p secrets/stamina-internal-tokens
install -o 0 -g 10001 -m 0440 tokens secrets/stamina-internal-tokens/tokens
cat > containers.conf <<'CONF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
cgroup_manager = "cgroupfs"
CONF
export CONTAINERS_CONF="${WORK}/containers.conf" WORK BIN ARCHIVE
cat > flow.sh <<'FLOW'
set -euo pipefail
cd "${WORK}"
if [[ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]]; then umount /sys/fs/cgroup/unified; fi
podman load -q -i "${ARCHIVE}"
podman pod rm -f staminad > /dev/null 2>&1 || true
podman volume rm -f staminad-data > /dev/null 2>&1 || true
podman kube play play.yaml > play.log
trap 'podman logs staminad-staminad > staminad.log 2>&1 || true; podman pod rm -f staminad > /dev/null 2>&1 || true' EXIT
for _ in $(seq 1 120); do
  podman logs staminad-staminad 2>&1 | grep -q "^staminad: serving" && break
  sleep 1
done
podman logs staminad-staminad 2>&1 | grep "^staminad: serving"
cli() { "${BIN}/cli/stamina" "$@"; }
cli --server=127.0.0.1:7071 --admin_token_file=admin-token admin tenants create demo
KEY="$(cli --server=127.0.0.1:7071 --admin_token_file=admin-token admin keys create demo --label=podman 2>/dev/null)"
export STAMINA_API_KEY="${KEY}" STAMINA_SERVER=127.0.0.1:7070
cli --server=127.0.0.1:7070 models create family
mkdir -p anna
"${BIN}/core/world/render" --kind=face --seed=1000000 --count=1 --renders=3 --out_dir=anna > /dev/null
cli --server=127.0.0.1:7070 concepts create family anna '<anna>' --caption='a photo of {}'
cli --server=127.0.0.1:7070 upload family anna anna
cli --server=127.0.0.1:7070 train family anna --steps=20
cli --server=127.0.0.1:7070 sample family --prompt='a photo of <anna>' --steps=10 --out=samples
ls -la samples
podman inspect staminad-staminad --format 'user {{.Config.User}}, read-only root {{.HostConfig.ReadonlyRootfs}}'
FLOW
unshare -m bash flow.sh
echo "podman kube play of the embedded overlay: served the flow (work dir ${WORK})"
