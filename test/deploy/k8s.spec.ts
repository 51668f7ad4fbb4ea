import {
  API_VARIABLES,
  readManifests,
  RETENTION_VARIABLES,
  WORKER_VARIABLES,
  type Manifest,
} from './manifest-helpers';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML trees */
const manifests = readManifests('deploy/k8s');

function find(kind: string, name: string): any {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/k8s`);
  return found;
}

const config = find('ConfigMap', 'sessionwire-config') as Manifest;
const secret = find('Secret', 'sessionwire-secrets') as Manifest;
const api = find('Deployment', 'sessionwire-api');
const worker = find('Deployment', 'sessionwire-worker');
const migrate = find('Job', 'sessionwire-migrate');
const retention = find('CronJob', 'sessionwire-retention');
const workloads = [api, worker, migrate, retention];
const podOf = (workload: any) =>
  (workload.kind === 'CronJob' ? workload.spec.jobTemplate.spec.template : workload.spec.template)
    .spec;
const containerOf = (workload: any) => podOf(workload).containers[0];

function preStopSleepMs(workload: any): number {
  const command: string[] = containerOf(workload).lifecycle?.preStop?.exec?.command ?? [];
  expect(command[0]).toBe('sleep');
  return Number(command[1]) * 1000;
}

describe('deploy/k8s', () => {
  it('parses into namespaced resources with names and kinds', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(10);
    for (const m of manifests) {
      expect(m.apiVersion).toBeTruthy();
      expect(m.metadata.name).toMatch(/^[a-z0-9-]+$/);
      if (m.kind !== 'Namespace')
        expect(`${m.file}:${m.metadata.namespace}`).toBe(`${m.file}:sessionwire`);
    }
  });

  it('runs the migrate job and the retention CronJob with the same image as api and worker', () => {
    expect(containerOf(migrate).command).toEqual(['node', 'dist/apps/api/main.js', 'migrate']);
    expect(containerOf(retention).command).toEqual(['node', 'dist/apps/api/main.js', 'retention']);
    expect(containerOf(api).command).toEqual(['node', 'dist/apps/api/main.js']);
    expect(containerOf(worker).command).toEqual(['node', 'dist/apps/worker/main.js']);
    const images = new Set(workloads.map((w) => containerOf(w).image));
    expect(images.size).toBe(1);
  });

  it('probes api readiness on /readyz and liveness on /healthz', () => {
    const container = containerOf(api);
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    const ports = container.ports.map((p: any) => p.name);
    expect(ports).toContain(container.readinessProbe.httpGet.port);
    expect(String(container.ports[0].containerPort)).toBe(config.data!.PORT);
    expect(containerOf(worker).livenessProbe.httpGet.path).toBe('/healthz');
    expect(String(containerOf(worker).ports[0].containerPort)).toBe(config.data!.METRICS_PORT);
  });

  it('gives pods longer to stop than preStop plus their drain', () => {
    const drain = Number(config.data!.DRAIN_MS);
    const workerDrain = Number(config.data!.WORKER_DRAIN_MS);
    expect(api.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
      preStopSleepMs(api) + drain,
    );
    expect(worker.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
      preStopSleepMs(worker) + workerDrain,
    );
  });

  it('exposes api through a Service and an SSE-safe Ingress', () => {
    const service = find('Service', 'sessionwire-api');
    expect(service.spec.selector).toEqual(api.spec.selector.matchLabels);
    const portNames = containerOf(api).ports.map((p: any) => p.name);
    expect(portNames).toContain(service.spec.ports[0].targetPort);
    const ingress = manifests.find((m) => m.kind === 'Ingress') as any;
    const a = ingress.metadata.annotations;
    expect(a['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
    expect(Number(a['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(
      3600,
    );
    expect(Number(a['nginx.ingress.kubernetes.io/proxy-send-timeout'])).toBeGreaterThanOrEqual(
      3600,
    );
    expect(a['nginx.ingress.kubernetes.io/service-upstream']).not.toBe('true');
    const paths = ingress.spec.rules[0].http.paths;
    expect(paths.map((p: any) => p.path)).toContain('/v1');
    expect(paths.map((p: any) => p.path)).not.toContain('/metrics');
    for (const p of paths) expect(p.backend.service.name).toBe(service.metadata.name);
  });

  // As deploy/nginx/nginx.conf: a browser's EventSource stops for good on any non-200 answer.
  it('has the Ingress pass a request a pod refused on to another pod, never a POST', () => {
    const ingress = manifests.find((m) => m.kind === 'Ingress') as any;
    const a = ingress.metadata.annotations;
    const next = String(a['nginx.ingress.kubernetes.io/proxy-next-upstream']).split(/\s+/);
    expect(next).toEqual(
      expect.arrayContaining(['error', 'timeout', 'http_502', 'http_503', 'http_504']),
    );
    expect(next).not.toContain('non_idempotent');
    expect(Number(a['nginx.ingress.kubernetes.io/proxy-next-upstream-tries'])).toBeGreaterThan(1);
  });

  it('routes to a restarted api pod again within about a second, but rides out short blips', () => {
    const probe = containerOf(api).readinessProbe;
    expect(probe.periodSeconds).toBeLessThanOrEqual(1);
    expect(probe.successThreshold ?? 1).toBe(1);
    expect(probe.periodSeconds * probe.failureThreshold).toBeGreaterThanOrEqual(10);
  });

  it('protects availability with PodDisruptionBudgets and scales api with an HPA', () => {
    for (const workload of [api, worker]) {
      const pdb = find('PodDisruptionBudget', workload.metadata.name);
      expect(pdb.spec.selector.matchLabels).toEqual(workload.spec.selector.matchLabels);
      expect(pdb.spec.minAvailable).toBeLessThan(workload.spec.replicas);
    }
    const hpa = find('HorizontalPodAutoscaler', 'sessionwire-api');
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'sessionwire-api' });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
  });

  it('selects its own pod labels in every Deployment', () => {
    for (const workload of [api, worker]) {
      expect(workload.spec.template.metadata.labels).toMatchObject(
        workload.spec.selector.matchLabels,
      );
    }
  });

  it('runs retention nightly, one run at a time, with DATABASE_URL and no other secret', () => {
    expect(retention.spec.schedule).toMatch(/^\S+ \S+ \* \* \*$/);
    expect(retention.spec.concurrencyPolicy).toBe('Forbid');
    expect(podOf(retention).restartPolicy).toBe('OnFailure');
    const env = containerOf(retention).env.map((e: any) => e.name);
    expect(env).toEqual(['DATABASE_URL']);
    expect(RETENTION_VARIABLES.has('EVENT_RETENTION_DAYS')).toBe(true);
    expect(Object.keys(config.data!)).toContain('EVENT_RETENTION_DAYS');
  });

  it('lets api and worker take REDIS_URL or REDIS_CLUSTER_NODES from the Secret', () => {
    for (const workload of [api, worker]) {
      const refs = containerOf(workload)
        .env.filter((e: any) => /^REDIS_(URL|CLUSTER_NODES)$/.test(e.name))
        .map((e: any) => [e.name, e.valueFrom.secretKeyRef.optional]);
      expect(refs).toEqual([
        ['REDIS_URL', true],
        ['REDIS_CLUSTER_NODES', true],
      ]);
    }
  });

  it('runs every container as non-root without privilege escalation', () => {
    for (const workload of workloads) {
      const pod = podOf(workload);
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      for (const c of pod.containers) {
        expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
        expect(c.securityContext.capabilities.drop).toEqual(['ALL']);
      }
    }
  });

  it('takes config from the ConfigMap and Secret, and only variables the apps read', () => {
    const secretKeys = Object.keys(secret.stringData ?? secret.data ?? {});
    const known = (v: string) =>
      v === 'NODE_ENV' ||
      API_VARIABLES.has(v) ||
      WORKER_VARIABLES.has(v) ||
      RETENTION_VARIABLES.has(v);
    expect(Object.keys(config.data!).filter((v) => !known(v))).toEqual([]);
    expect(secretKeys.filter((v) => !known(v))).toEqual([]);
    for (const workload of workloads) {
      const c = containerOf(workload);
      expect(c.envFrom).toEqual([{ configMapRef: { name: config.metadata.name } }]);
      for (const env of c.env) {
        expect(known(env.name)).toBe(true);
        const ref = env.valueFrom.secretKeyRef;
        if (ref) {
          expect(ref.name).toBe(secret.metadata.name);
          expect(secretKeys).toContain(ref.key);
        }
      }
    }
    const apiOnly = (v: string) => API_VARIABLES.has(v);
    expect(
      containerOf(api)
        .env.map((e: any) => e.name)
        .filter(apiOnly),
    ).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'API_KEYS', 'AUTH_SECRET']));
  });
});

// Field names of the Kubernetes API objects used here: a misspelt field is silently ignored by
// a lenient apply, so the manifests may only use these.
const POD_SPEC_FIELDS = [
  'containers',
  'initContainers',
  'restartPolicy',
  'terminationGracePeriodSeconds',
  'automountServiceAccountToken',
  'serviceAccountName',
  'securityContext',
  'volumes',
  'affinity',
  'topologySpreadConstraints',
];
const CONTAINER_FIELDS = [
  'name',
  'image',
  'imagePullPolicy',
  'command',
  'args',
  'ports',
  'env',
  'envFrom',
  'readinessProbe',
  'livenessProbe',
  'startupProbe',
  'lifecycle',
  'securityContext',
  'resources',
  'volumeMounts',
];

describe('deploy/k8s field names', () => {
  it.each(workloads.map((w) => [w.metadata.name, w]))('%s uses only known pod fields', (_n, w) => {
    const pod = podOf(w);
    expect(Object.keys(pod).filter((k) => !POD_SPEC_FIELDS.includes(k))).toEqual([]);
    for (const c of pod.containers) {
      expect(Object.keys(c).filter((k) => !CONTAINER_FIELDS.includes(k))).toEqual([]);
    }
  });
});
