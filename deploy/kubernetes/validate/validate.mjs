// Validates rendered Kubernetes manifests (the output of `kubectl kustomize`
// of one overlay) in two ways:
//   1. every object against its schema: Kubernetes 1.30+ (kubernetes-models),
//      KEDA (ScaledObject) and the Prometheus Operator (ServiceMonitor);
//   2. the rules this deployment promises (docs/deploy.md): non-root,
//      read-only root filesystems, no privilege escalation, resources and
//      probes on every long-running container, secrets only as files, every
//      mount backed by a volume, Services that select a workload and name its
//      ports, one staminad, autoscaler targets that exist, and as many
//      sampler replicas listed in staminad's --sampler_backends as the
//      autoscaler may run.
//
//   node validate.mjs OVERLAY_NAME < rendered.yaml
// Prints one line per problem and exits 1 when there is any.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import YAML from "yaml";

const require = createRequire(import.meta.url);
const overlay = process.argv[2] ?? "(stdin)";
const problems = [];
const problem = (where, what) => problems.push(`${overlay}: ${where}: ${what}`);

// apiVersion -> the module holding its kinds.
function modelModule(apiVersion) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "keda.sh") return require(`@kubernetes-models/keda/keda.sh/${version}`);
  if (group === "monitoring.coreos.com") {
    return require(`@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}`);
  }
  return require(group === "" ? `kubernetes-models/${version}` : `kubernetes-models/${group}/${version}`);
}

function validateSchema(object, where) {
  let kinds;
  try {
    kinds = modelModule(object.apiVersion);
  } catch {
    return problem(where, `unknown apiVersion ${object.apiVersion}`);
  }
  const Model = kinds[object.kind];
  if (typeof Model !== "function") return problem(where, `unknown kind ${object.kind}`);
  try {
    new Model(object).validate();
  } catch (error) {
    problem(where, `schema: ${error.message}`);
  }
}

// The pod template of a workload, or null.
function podTemplate(object) {
  if (["Deployment", "StatefulSet", "DaemonSet"].includes(object.kind)) return object.spec?.template;
  if (object.kind === "CronJob") return object.spec?.jobTemplate?.spec?.template;
  if (object.kind === "Job") return object.spec?.template;
  return null;
}

// Flags that carry secrets must name files, never hold the secret.
const SECRET_FLAG = /^--[a-z_]*(token|key|password|secret)[a-z_]*=/;
const FILE_FLAG = /_(file|dir)=|^--tls_key=/;

function checkPod(object, template, where) {
  const spec = template?.spec ?? {};
  const longRunning = object.kind !== "CronJob" && object.kind !== "Job";
  if (spec.automountServiceAccountToken !== false) {
    problem(where, "automountServiceAccountToken must be false (nothing here talks to the API server)");
  }
  if (spec.securityContext?.runAsNonRoot !== true) problem(where, "pod must set runAsNonRoot");
  if (!spec.securityContext?.runAsUser) problem(where, "pod must set runAsUser");
  const volumes = new Map((spec.volumes ?? []).map((v) => [v.name, v]));
  const claimed = new Set((object.spec?.volumeClaimTemplates ?? []).map((c) => c.metadata?.name));
  for (const container of spec.containers ?? []) {
    const at = `${where} container ${container.name}`;
    const sc = container.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false) problem(at, "allowPrivilegeEscalation must be false");
    if (sc.readOnlyRootFilesystem !== true) problem(at, "readOnlyRootFilesystem must be true");
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) problem(at, "capabilities must drop ALL");
    const requests = container.resources?.requests ?? {};
    if (!requests.cpu || !requests.memory) problem(at, "resources.requests needs cpu and memory");
    if (!container.resources?.limits?.memory) problem(at, "resources.limits needs memory");
    if (longRunning) {
      for (const probe of ["startupProbe", "livenessProbe"]) {
        if (!container[probe]?.grpc?.port) problem(at, `${probe} must be a gRPC probe`);
      }
    }
    for (const arg of container.args ?? []) {
      if (SECRET_FLAG.test(arg) && !FILE_FLAG.test(arg)) problem(at, `secret passed as a flag: ${arg.split("=")[0]}`);
    }
    for (const env of container.env ?? []) {
      if (/TOKEN|KEY|SECRET|PASSWORD/.test(env.name)) problem(at, `secret passed in env ${env.name}; mount it as a file`);
    }
    for (const mount of container.volumeMounts ?? []) {
      if (!volumes.has(mount.name) && !claimed.has(mount.name)) {
        problem(at, `mount ${mount.mountPath} names no volume (${mount.name})`);
      }
      const volume = volumes.get(mount.name);
      if (volume?.secret && mount.readOnly !== true) problem(at, `secret ${mount.name} must be mounted readOnly`);
    }
  }
}

function labelsMatch(selector, labels) {
  return Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
}

function flagValue(args, name) {
  const arg = (args ?? []).find((a) => a.startsWith(`--${name}=`));
  return arg === undefined ? undefined : arg.slice(name.length + 3);
}

const objects = YAML.parseAllDocuments(readFileSync(0, "utf8"))
  .map((d) => d.toJS())
  .filter((o) => o);
if (objects.length === 0) problem("input", "no objects rendered");
const byKind = (kind) => objects.filter((o) => o.kind === kind);
const find = (kind, name) => objects.find((o) => o.kind === kind && o.metadata?.name === name);

for (const object of objects) {
  const where = `${object.kind}/${object.metadata?.name}`;
  validateSchema(object, where);
  const template = podTemplate(object);
  if (template) checkPod(object, template, where);
}

// Services select a workload and target its named ports.
const workloads = objects.filter((o) => podTemplate(o) && o.kind !== "CronJob");
for (const service of byKind("Service")) {
  const where = `Service/${service.metadata.name}`;
  const targets = workloads.filter((w) => labelsMatch(service.spec.selector, podTemplate(w).metadata?.labels));
  if (targets.length === 0) {
    problem(where, "selects no workload");
    continue;
  }
  for (const port of service.spec.ports ?? []) {
    if (typeof port.targetPort !== "string") continue;
    const named = targets.some((w) =>
      podTemplate(w).spec.containers.some((c) => (c.ports ?? []).some((p) => p.name === port.targetPort)));
    if (!named) problem(where, `targetPort ${port.targetPort} is no container port`);
  }
}

// The single writer.
const staminad = find("StatefulSet", "staminad");
if (!staminad) {
  problem("StatefulSet/staminad", "missing");
} else {
  if (staminad.spec.replicas !== 1) problem("StatefulSet/staminad", "replicas must be 1 (one SQLite writer)");
  const args = staminad.spec.template.spec.containers[0].args;
  const backends = (flagValue(args, "sampler_backends") ?? "").split(",").filter((b) => b);
  const samplers = find("StatefulSet", "stamina-sampler");
  if (samplers) {
    const hpa = byKind("HorizontalPodAutoscaler").find((h) => h.spec.scaleTargetRef.name === "stamina-sampler");
    const most = hpa ? hpa.spec.maxReplicas : samplers.spec.replicas;
    if (backends.length !== most) {
      problem("StatefulSet/staminad", `--sampler_backends lists ${backends.length} replicas, ${most} may run`);
    }
    const port = flagValue(samplers.spec.template.spec.containers[0].args, "listen")?.split(":").pop();
    backends.forEach((backend, i) => {
      if (backend !== `stamina-sampler-${i}.stamina-sampler:${port}`) {
        problem("StatefulSet/staminad", `--sampler_backends entry ${backend} is not replica ${i}'s name`);
      }
    });
  } else if (backends.length > 0) {
    problem("StatefulSet/staminad", "--sampler_backends set but no sampler StatefulSet");
  }
}

// Autoscalers and monitors point at things that exist.
for (const scaled of byKind("ScaledObject")) {
  if (!find("Deployment", scaled.spec.scaleTargetRef.name)) {
    problem(`ScaledObject/${scaled.metadata.name}`, `target ${scaled.spec.scaleTargetRef.name} missing`);
  }
}
for (const hpa of byKind("HorizontalPodAutoscaler")) {
  if (!find(hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name)) {
    problem(`HorizontalPodAutoscaler/${hpa.metadata.name}`, "target missing");
  }
}
for (const monitor of byKind("ServiceMonitor")) {
  const services = byKind("Service").filter((s) => labelsMatch(monitor.spec.selector.matchLabels, s.metadata.labels));
  const ports = monitor.spec.endpoints.map((e) => e.port);
  if (!services.some((s) => s.spec.ports.some((p) => ports.includes(p.name)))) {
    problem(`ServiceMonitor/${monitor.metadata.name}`, "selects no Service with its port");
  }
}

for (const line of problems) console.log(line);
console.log(`${overlay}: ${objects.length} objects, ${problems.length} problems`);
process.exit(problems.length === 0 ? 0 : 1);
