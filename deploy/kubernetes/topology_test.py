#!/usr/bin/env python3
"""The rendered `cpu` overlay, run as processes on loopback.

From `kubectl kustomize overlays/cpu` this takes each workload's container
command, args, env and mounted files, and starts those exact processes: one
staminad, the Deployment's worker and the StatefulSet's sampler replicas.
What a cluster would provide is stood in for, and nothing else changes:
  - each Service DNS name (stamina-internal:7071, stamina-sampler-N.
    stamina-sampler:7072) and each listen address becomes a 127.0.0.1 port
    (replicas the HPA could add but that are not running get a port where
    nothing listens, as a scaled-down replica's name would);
  - each Secret is written as the operator would create it (docs/deploy.md),
    mode 600, and each emptyDir or volume claim is a fresh directory, at the
    paths the args name;
  - /usr/bin/... are this checkout's binaries, /usr/share/stamina/models the
    shipped model; $(POD_NAME) is the pod's name.
It waits for the gRPC startup probes the manifests declare, then drives the
service with the stamina CLI over TLS: a tenant and key through the admin
service, a model, two uploaded concepts, training through the worker pool,
sampling through the replicas, and the worker SIGKILLed in the middle of the
second concept's job: a new worker pod finishes it, and the model has exactly
two versions. Last, the backup CronJob's container runs once. A flag typo, a
wrong port, probe or mount in a manifest makes a process fail or never get
ready, and the test with it.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import grpc
import yaml

BINARIES = {
    "/usr/bin/staminad": "app/staminad",
    "/usr/bin/stamina-worker": "worker/stamina-worker",
    "/usr/bin/stamina-sampler": "sampler/stamina-sampler",
    "/usr/bin/stamina": "cli/stamina",
}
MODELS = "/usr/share/stamina/models/"
ROOT = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
PROCESSES = []


def runfile(path):
    return os.path.abspath(os.path.join(os.environ.get("TEST_SRCDIR", "."), "stamina", path))


def fail(what):
    print(f"FAIL: {what}")
    for name, process, log in PROCESSES:
        print(f"--- {name} (exit {process.poll()})")
        with open(log, errors="replace") as f:
            print(f.read()[-4000:])
    stop_all()
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_secret(path, text):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(text)


def render():
    tree = os.path.join(ROOT, "kubernetes")
    shutil.copytree(runfile("deploy/kubernetes"), tree, ignore=shutil.ignore_patterns("node_modules"))
    run = subprocess.run(["kubectl", "kustomize", os.path.join(tree, "overlays", "cpu")],
                         capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        sys.exit(f"kubectl kustomize failed:\n{run.stderr}")
    return [o for o in yaml.safe_load_all(run.stdout) if o]


class Cluster:
    """Local ports for Services and pods, and the operator's Secrets."""

    def __init__(self, objects):
        self.objects = objects
        self.pod_ports = {}  # (pod, containerPort) -> local port
        self.addresses = {}  # "dns-name:port" -> "127.0.0.1:local"
        self.volumes = {}  # (pod, volume) -> local directory
        tokens = {name: f"{name}-topology-test-token-0123456789abcdef"
                  for name in ("worker", "admin", "s0", "s1", "s2", "s3")}
        self.admin_token = tokens["admin"]
        # One self-signed certificate (its own CA) for 127.0.0.1.
        tls = os.path.join(ROOT, "tls-source")
        os.makedirs(tls)
        made = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", f"{tls}/tls.key", "-out", f"{tls}/tls.crt"], capture_output=True, text=True)
        if made.returncode != 0:
            sys.exit(made.stderr)
        self.ca_file = f"{tls}/tls.crt"
        cert = open(f"{tls}/tls.crt").read()
        key = open(f"{tls}/tls.key").read()
        samplers = [f"stamina-sampler-{i}.stamina-sampler:7072" for i in range(4)]
        self.secrets = {
            "stamina-internal-tokens": {"tokens": "".join(
                [f"worker workers {tokens['worker']}\n", f"admin ops {tokens['admin']}\n"] +
                [f"sampler {s} {tokens[f's{i}']}\n" for i, s in enumerate(samplers)])},
            "stamina-worker-token": {"token": tokens["worker"]},
            "stamina-admin-token": {"token": tokens["admin"]},
            "stamina-sampler-tokens": {
                f"stamina-sampler-{i}": tokens[f"s{i}"] for i in range(4)},
            "stamina-tls": {"tls.crt": cert, "tls.key": key, "ca.crt": cert},
        }

    def workload(self, kind, name):
        for obj in self.objects:
            if obj["kind"] == kind and obj["metadata"]["name"] == name:
                return obj
        fail(f"{kind}/{name} not rendered")

    def assign_ports(self, pod, container):
        for port in container.get("ports", []):
            self.pod_ports[(pod, port["containerPort"])] = free_port()

    def map_services(self):
        """Service names -> the local ports of the pods they select."""
        for service in (o for o in self.objects if o["kind"] == "Service"):
            name = service["metadata"]["name"]
            selector = service["spec"]["selector"]["app.kubernetes.io/name"]
            for port in service["spec"]["ports"]:
                target = self.container_port(selector, port["targetPort"])
                if service["spec"].get("clusterIP") == "None":
                    # Headless: each pod by its stable name.
                    for (pod, container_port), local in self.pod_ports.items():
                        if pod.startswith(selector + "-") and container_port == target:
                            self.addresses[f"{pod}.{name}:{port['port']}"] = f"127.0.0.1:{local}"
                else:
                    pods = [p for (p, c) in self.pod_ports if p.startswith(selector) and c == target]
                    if pods:
                        local = self.pod_ports[(pods[0], target)]
                        self.addresses[f"{name}:{port['port']}"] = f"127.0.0.1:{local}"
        # Replicas the autoscaler may add: names that lead nowhere for now.
        for i in range(4):
            self.addresses.setdefault(f"stamina-sampler-{i}.stamina-sampler:7072",
                                      f"127.0.0.1:{free_port()}")

    def container_port(self, app, target):
        for obj in self.objects:
            template = obj.get("spec", {}).get("template")
            if not template or template["metadata"]["labels"].get("app.kubernetes.io/name") != app:
                continue
            for c in template["spec"]["containers"]:
                for p in c.get("ports", []):
                    if p.get("name") == target or p["containerPort"] == target:
                        return p["containerPort"]
        fail(f"no container port {target} in {app}")

    def address(self, value):
        for name, local in self.addresses.items():
            value = value.replace(name, local)
        return value

    def mount(self, pod, spec, container):
        """Mount path -> local directory, with Secret files written in."""
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        mounts = {}
        for m in container.get("volumeMounts", []):
            key = (pod, m["name"])
            if key not in self.volumes:
                directory = os.path.join(ROOT, "volumes", pod, m["name"])
                os.makedirs(directory)
                secret = volumes.get(m["name"], {}).get("secret")
                if secret:
                    data = self.secrets[secret["secretName"]]
                    items = secret.get("items") or [{"key": k, "path": k} for k in data]
                    for item in items:
                        text = data[item["key"]]
                        if item["key"] == "tokens":
                            text = self.address(text)  # a replica's name is its address
                        write_secret(os.path.join(directory, item["path"]), text)
                self.volumes[key] = directory
            mounts[m["mountPath"]] = self.volumes[key]
        return mounts

    def start(self, pod, obj, container):
        spec = obj["spec"]["template"]["spec"] if "template" in obj["spec"] else \
            obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        env = dict(os.environ)
        variables = {}
        for e in container.get("env", []):
            if e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name":
                variables[e["name"]] = pod
            elif "value" in e:
                variables[e["name"]] = e["value"]
        env.update(variables)
        mounts = self.mount(pod, spec, container)
        args = []
        for arg in container.get("args", []):
            for var, value in variables.items():
                arg = arg.replace(f"$({var})", value)
            name, eq, value = arg.partition("=")
            if eq:
                if name.endswith("listen"):
                    port = int(value.rsplit(":", 1)[1])
                    value = f"127.0.0.1:{self.pod_ports[(pod, port)]}"
                else:
                    value = self.address(value)
                    for path, local in mounts.items():
                        if value == path or value.startswith(path + "/"):
                            value = local + value[len(path):]
                    if value.startswith(MODELS):
                        value = runfile("models/" + value[len(MODELS):])
            args.append(name + eq + value)
        command = [runfile(BINARIES[container["command"][0]])] + args
        log = os.path.join(ROOT, f"{pod}.log")
        work = os.path.join(ROOT, "cwd", pod)
        os.makedirs(work, exist_ok=True)
        process = subprocess.Popen(command, cwd=work, env=env, stdout=open(log, "w"),
                                   stderr=subprocess.STDOUT)
        PROCESSES.append((pod, process, log))
        return process

    def await_probe(self, pod, container, process, timeout=180):
        probe = container.get("startupProbe")
        if not probe:
            fail(f"{pod} declares no startup probe")
        target = f"127.0.0.1:{self.pod_ports[(pod, probe['grpc']['port'])]}"
        deadline = time.time() + timeout
        while time.time() < deadline:
            if process.poll() is not None:
                fail(f"{pod} exited ({process.returncode}) before its probe passed")
            with grpc.insecure_channel(target) as channel:
                check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                            request_serializer=lambda b: b,
                                            response_deserializer=lambda b: b)
                try:
                    if check(b"", timeout=2) == b"\x08\x01":
                        return
                except grpc.RpcError:
                    pass
            time.sleep(0.2)
        fail(f"{pod}: startup probe never passed")


def stop_all():
    for _, process, _ in PROCESSES:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for _, process, _ in PROCESSES:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def main():
    cluster = Cluster(render())
    staminad = cluster.workload("StatefulSet", "staminad")
    workers = cluster.workload("Deployment", "stamina-worker")
    samplers = cluster.workload("StatefulSet", "stamina-sampler")
    backup = cluster.workload("CronJob", "stamina-registry-backup")
    container = lambda obj: obj["spec"]["template"]["spec"]["containers"][0]

    sampler_pods = [f"stamina-sampler-{i}" for i in range(samplers["spec"]["replicas"])]
    cluster.assign_ports("staminad-0", container(staminad))
    for pod in sampler_pods:
        cluster.assign_ports(pod, container(samplers))
    for pod in ("stamina-worker-a", "stamina-worker-b"):
        cluster.assign_ports(pod, container(workers))
    cluster.map_services()

    server = cluster.start("staminad-0", staminad, container(staminad))
    cluster.await_probe("staminad-0", container(staminad), server)
    for pod in sampler_pods:
        process = cluster.start(pod, samplers, container(samplers))
        cluster.await_probe(pod, container(samplers), process)
    worker = cluster.start("stamina-worker-a", workers, container(workers))
    cluster.await_probe("stamina-worker-a", container(workers), worker)

    api = cluster.addresses["stamina-api:7070"]
    internal = cluster.addresses["stamina-internal:7071"]
    admin_token = os.path.join(ROOT, "admin-token")
    write_secret(admin_token, cluster.admin_token)
    stamina = runfile("cli/stamina")

    def cli(*args, server=api, key=None, check=True):
        command = [stamina, f"--server={server}", f"--tls_ca={cluster.ca_file}"]
        if key:
            command.append(f"--api_key={key}")
        run = subprocess.run(command + list(args), capture_output=True, text=True, timeout=600)
        if check and run.returncode != 0:
            fail(f"stamina {' '.join(args)}: exit {run.returncode}\n{run.stdout}\n{run.stderr}")
        return run.stdout + run.stderr

    cli(f"--admin_token_file={admin_token}", "admin", "tenants", "create", "acme", server=internal)
    created = subprocess.run([stamina, f"--server={internal}", f"--tls_ca={cluster.ca_file}",
                              f"--admin_token_file={admin_token}", "admin", "keys", "create",
                              "acme", "--label=topology"], capture_output=True, text=True)
    key = created.stdout.strip()
    if created.returncode != 0 or not key:
        fail(f"admin keys create: {created.stderr}")

    cli("models", "create", "fam", key=key)
    for concept, kind in (("anna", "face"), ("mill", "landmark")):
        images = os.path.join(ROOT, "images", concept)
        os.makedirs(images)
        subprocess.run([runfile("core/world/render"), f"--kind={kind}", "--seed=1000000",
                        "--count=1", "--renders=3", f"--out_dir={images}"], check=True,
                       capture_output=True)
        cli("concepts", "create", "fam", concept, f"<{concept}>", "--caption=a photo of {}", key=key)
        cli("upload", "fam", concept, images, key=key)

    out = cli("train", "fam", "anna", "--steps=5", key=key)
    if "SUCCEEDED: models/fam/versions/1" not in out:
        fail(f"anna did not succeed:\n{out}")
    samples = os.path.join(ROOT, "samples")
    cli("sample", "fam", "--prompt=a photo of <anna>", "--steps=3", f"--out={samples}", key=key)
    if not os.path.getsize(os.path.join(samples, "fam-v1-0.png")):
        fail("no PNG from the sampler replicas")

    # The worker pod dies mid-job (SIGKILL: no hand-back); its lease expires
    # and the Deployment's replacement pod finishes the job.
    out = cli("train", "fam", "mill", "--steps=150", "--no_wait", key=key)
    job = re.search(r"models/fam/jobs/([a-z0-9]+)", out)
    if not job:
        fail(f"no job id:\n{out}")
    job = job.group(1)
    deadline = time.time() + 120
    while not re.search(r"RUNNING TRAINING step [1-9]", cli("jobs", "get", "fam", job, key=key)):
        if time.time() > deadline:
            fail("the worker never trained mill")
        time.sleep(0.2)
    worker.kill()
    worker.wait()
    replacement = cluster.start("stamina-worker-b", workers, container(workers))
    cluster.await_probe("stamina-worker-b", container(workers), replacement)
    cli("jobs", "watch", "fam", job, key=key)
    out = cli("jobs", "get", "fam", job, key=key)
    if "SUCCEEDED" not in out or not re.search(r"attempt +2", out):
        fail(f"mill did not succeed on a second attempt:\n{out}")
    versions = cli("versions", "fam", key=key)
    if versions.count("<") != 2:
        fail(f"not exactly two versions:\n{versions}")
    cli("sample", "fam", "--prompt=<anna> near <mill>", "--steps=3", f"--out={samples}", key=key)
    if not os.path.getsize(os.path.join(samples, "fam-v2-0.png")):
        fail("no PNG of version 2")

    # The backup CronJob's container, once.
    job_container = backup["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    cluster.assign_ports("stamina-registry-backup-1", job_container)
    process = cluster.start("stamina-registry-backup-1", backup, job_container)
    if process.wait(timeout=120) != 0:
        fail("the backup job failed")
    data = cluster.volumes[("staminad-0", "data")]
    if not [f for f in os.listdir(os.path.join(data, "backups")) if f.endswith(".db")]:
        fail("the backup job wrote no backup")

    server.send_signal(signal.SIGTERM)
    if server.wait(timeout=90) != 0:
        fail(f"staminad exited {server.returncode} on SIGTERM")
    stop_all()
    print("the cpu overlay's processes served upload, training, sampling, a lost worker and a "
          "backup")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        stop_all()
