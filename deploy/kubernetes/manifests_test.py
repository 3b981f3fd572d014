#!/usr/bin/env python3
"""The Kubernetes manifests run the binaries this checkout builds, as they are.

For each overlay (embedded, cpu, gpu), rendered with `kubectl kustomize` (the
kubectl on PATH: 1.32 here, Debian's 1.20 on a fresh machine), every container
of every workload is checked against the binary it runs:
  - the command is one of the installed binaries (/usr/bin/...);
  - every --flag it passes is a flag of that binary (`--helpfull`), and the
    CLI's command words are a command of `stamina help`;
  - every container port is the port of one of its --*listen flags, and every
    gRPC probe targets its --health_listen port;
  - every file or directory a flag names under /etc, /var or /tmp lies on a
    mount of the container (the root filesystem is read-only), a secret file
    is one the mounted Secret projects (when it lists items), and --data_dir
    is on a writable mount.
Schema validation (Kubernetes 1.30+, KEDA, Prometheus Operator) is
deploy/kubernetes/validate, run by `./stamina.sh test`.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

OVERLAYS = ("embedded", "cpu", "gpu")
BINARIES = {
    "/usr/bin/staminad": "app/staminad",
    "/usr/bin/stamina-worker": "worker/stamina-worker",
    "/usr/bin/stamina-sampler": "sampler/stamina-sampler",
    "/usr/bin/stamina": "cli/stamina",
}
# Flags whose value is a path the process reads or writes.
PATH_FLAG = re.compile(r"(_file|_dir|^tls_cert|^tls_key|tls_ca)$")

problems = []


def problem(where, what):
    problems.append(f"{where}: {what}")


def runfile(path):
    return os.path.join(os.environ.get("TEST_SRCDIR", "."), "stamina", path)


_flags = {}


def flags_of(binary):
    """The flag names a binary accepts (booleans also as --noNAME)."""
    if binary not in _flags:
        run = subprocess.run([runfile(BINARIES[binary]), "--helpfull"], capture_output=True,
                             text=True, timeout=120)
        names = set(re.findall(r"^\s+--([A-Za-z0-9_]+) \(", run.stdout + run.stderr, re.M))
        if not names:
            sys.exit(f"{binary}: --helpfull listed no flags:\n{run.stdout}{run.stderr}")
        _flags[binary] = names | {"no" + n for n in names}
    return _flags[binary]


_cli_usage = None


def cli_usage():
    global _cli_usage
    if _cli_usage is None:
        run = subprocess.run([runfile(BINARIES["/usr/bin/stamina"]), "help"], capture_output=True,
                             text=True, timeout=60)
        _cli_usage = run.stdout + run.stderr
    return _cli_usage


def render(tree, overlay):
    run = subprocess.run(["kubectl", "kustomize", os.path.join(tree, "overlays", overlay)],
                         capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        sys.exit(f"kubectl kustomize overlays/{overlay} failed:\n{run.stderr}")
    return [o for o in yaml.safe_load_all(run.stdout) if o]


def pod_spec(obj):
    if obj["kind"] in ("Deployment", "StatefulSet"):
        return obj["spec"]["template"]["spec"]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def under(path, directory):
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def check_container(where, obj, spec, container):
    command = container.get("command", [])
    if len(command) != 1 or command[0] not in BINARIES:
        problem(where, f"command {command} is not one installed binary")
        return
    binary = command[0]
    known = flags_of(binary)
    values = {}
    words = []
    for arg in container.get("args", []):
        if not arg.startswith("--"):
            words.append(arg)
            continue
        name, _, value = arg[2:].partition("=")
        if name not in known:
            problem(where, f"{binary} has no flag --{name}")
        values[name] = value
    if words:
        if binary != "/usr/bin/stamina":
            problem(where, f"{binary} takes no operands, got {words}")
        elif f"stamina {' '.join(words)}" not in cli_usage():
            problem(where, f"`stamina {' '.join(words)}` is no CLI command")

    listen_ports = {v.rsplit(":", 1)[1] for n, v in values.items()
                    if n.endswith("listen") and ":" in v}
    for port in container.get("ports", []):
        if str(port["containerPort"]) not in listen_ports:
            problem(where, f"container port {port['containerPort']} is no --*listen port")
    health = values.get("health_listen", "").rsplit(":", 1)[-1]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        if probe in container:
            port = str(container[probe].get("grpc", {}).get("port"))
            if port != health:
                problem(where, f"{probe} port {port} is not --health_listen's ({health or 'unset'})")

    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    claims = {c["metadata"]["name"] for c in obj["spec"].get("volumeClaimTemplates", [])}
    mounts = container.get("volumeMounts", [])
    for name, value in values.items():
        if not PATH_FLAG.search(name) or not value.startswith(("/etc/", "/var/", "/tmp/")):
            continue
        # $(POD_NAME) and the like: the directory must be mounted.
        path = value.split("$(")[0].rstrip("/") if "$(" in value else value
        mount = next((m for m in mounts if under(path, m["mountPath"])), None)
        if mount is None:
            problem(where, f"--{name}={value} is on no mount (the root filesystem is read-only)")
            continue
        writable = not mount.get("readOnly") and (
            mount["name"] in claims or "emptyDir" in volumes.get(mount["name"], {}))
        if name == "data_dir" and not writable:
            problem(where, f"--data_dir={value} is not on a writable volume")
        secret = volumes.get(mount["name"], {}).get("secret")
        if secret and secret.get("items") and "$(" not in value:
            inside = os.path.relpath(value, mount["mountPath"])
            if inside not in {item["path"] for item in secret["items"]}:
                problem(where, f"--{name}={value}: Secret {secret['secretName']} projects no {inside}")


def main():
    if shutil.which("kubectl") is None:
        sys.exit("kubectl is not installed: ./stamina.sh setup installs it")
    # kustomize refuses files outside its root, and runfiles are symlinks
    # out of it: render a real copy.
    tree = os.path.join(tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR")), "kubernetes")
    shutil.copytree(runfile("deploy/kubernetes"), tree, symlinks=False,
                    ignore=shutil.ignore_patterns("node_modules"))
    checked = 0
    for overlay in OVERLAYS:
        objects = render(tree, overlay)
        if not objects:
            problem(overlay, "renders no objects")
        for obj in objects:
            spec = pod_spec(obj)
            if spec is None:
                continue
            for container in spec.get("containers", []):
                check_container(f"{overlay}: {obj['kind']}/{obj['metadata']['name']}/"
                                f"{container['name']}", obj, spec, container)
                checked += 1
    for line in problems:
        print(line)
    print(f"{checked} containers in {len(OVERLAYS)} overlays checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
