/** HTTP front of the simulated Kubernetes API server: discovery, CRUD, PATCH, watch, Status errors. */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ResourceDef } from './resources.ts';
import {
  apiGroups,
  apiResourceList,
  apiVersionOf,
  findResource,
  resourcesOf,
} from './resources.ts';
import type { KObj, StatusError, StoredEvent } from './store.ts';
import { ApiError, Store, notFound } from './store.ts';
import { Controllers } from './controllers.ts';
import { ProcessKubelet } from './kubelet.ts';
import { EventRecorder } from './events.ts';
import { leaseNetwork, SimNetwork } from './network.ts';
import type { DenyRule, RequestAttributes } from './authz.ts';
import type { ReviewSpec } from './authz.ts';
import {
  SIM_USER,
  decodeReviewProtobuf,
  deniedBy,
  forbidden,
  reviewStatus,
  verbOf,
} from './authz.ts';
import { PORT_FORWARD_PROTOCOLS, parsePorts, webSocketPortForward } from './portforward.ts';
import type { Duplex } from 'node:stream';
import { SpdyPortForwardSession } from './spdy.ts';
import type { Matcher } from './selectors.ts';
import { SelectorError, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { Json } from './patch.ts';
import { PatchError, jsonPatch, mergePatch, strategicMergePatch } from './patch.ts';

/** Largest request body accepted (the real server's limit is 3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;
/** Default period between BOOKMARK events on watches that ask for them. */
export const DEFAULT_BOOKMARK_INTERVAL_MS = 1000;
/** Default delay before a Terminating namespace and its contents are removed. */
export const DEFAULT_NAMESPACE_FINALIZE_MS = 200;
/** Watches without timeoutSeconds end after this long (the real server picks 30–60 min). */
export const DEFAULT_WATCH_TIMEOUT_S = 1800;

export interface SimClusterOptions {
  /** Names of the simulated nodes (default one node, `sim-node-1`). */
  nodes?: string[];
  /** Events kept for watch resumption (default DEFAULT_HISTORY_LIMIT). */
  historyLimit?: number;
  bookmarkIntervalMs?: number;
  /**
   * Run the scheduler, the Deployment/ReplicaSet/DaemonSet controllers and the process kubelet
   * (default true). Off, pods stay Pending unless a test writes their status.
   */
  controllers?: boolean;
  /** Delay between a namespace turning Terminating and its removal (default 200 ms). */
  namespaceFinalizeMs?: number;
  /**
   * Image repository (no tag/digest, e.g. `ghcr.io/kubeshark-ts/kubeshark`) → its ENTRYPOINT argv.
   * A container without `command` runs entrypoint + `args`; if the map is given and lacks the
   * image, the pull fails (ErrImagePull → ImagePullBackOff). Without the map such containers idle.
   */
  images?: Record<string, string[]>;
  /** Env added to every container (the container's own env wins), e.g. KUBECONFIG. */
  podEnv?: Record<string, string>;
  /**
   * Set KUBECONFIG=<sim.kubeconfigPath> in every container (before podEnv; container env wins):
   * pods have no service-account token, so in-cluster config cannot reach the API.
   */
  kubeconfigInPods?: boolean;
  /** Permissions to refuse: matching requests get 403, matching SelfSubjectAccessReviews allowed:false. */
  deny?: DenyRule[];
}

export interface SimCluster {
  url: string;
  port: number;
  kubeconfigPath: string;
  store: Store;
  /** Whether pods get cluster DNS through a private /etc/hosts (needs root and unshare). */
  clusterDns: boolean;
  /** This cluster's own addresses: node i is `network.nodeIp(i)`, pods `network.podPrefix` + n. */
  network: SimNetwork;
  close(): Promise<void>;
}

const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-kubeshark-sim',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Namespaces the real server refuses to delete. */
const UNDELETABLE_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

function statusBody(s: StatusError): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: s.message,
    reason: s.reason,
    ...(s.details ? { details: s.details } : {}),
    code: s.code,
  };
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
  });
  res.end(text);
}

function sendStatus(res: ServerResponse, s: StatusError): void {
  sendJson(res, s.code, statusBody(s));
}

function badRequest(message: string): ApiError {
  return new ApiError({ code: 400, reason: 'BadRequest', message });
}

function invalid(res: ResourceDef, name: string, field: string, message: string): ApiError {
  return new ApiError({
    code: 422,
    reason: 'Invalid',
    message: `${res.kind} "${name}" is invalid: ${field}: ${message}`,
    details: {
      name,
      group: res.group,
      kind: res.kind,
      causes: [{ reason: 'FieldValueInvalid', message, field }],
    },
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  return (await readRaw(req)).toString('utf8');
}

async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    const b = c as Buffer;
    size += b.length;
    if (size > MAX_BODY_BYTES) {
      throw new ApiError({
        code: 413,
        reason: 'RequestEntityTooLarge',
        message: 'request is too large',
      });
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/**
 * Request bodies must be JSON or YAML. Protobuf (which typed client-go clients try first) gets 415,
 * as from a server without protobuf support; client-go then retries with JSON.
 */
function bodyIsYaml(req: IncomingMessage): boolean {
  const ctype = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim();
  if (ctype === 'application/json' || ctype === '') return false;
  if (ctype === 'application/yaml') return true;
  throw new ApiError({
    code: 415,
    reason: 'UnsupportedMediaType',
    message: `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`,
  });
}

/** Spec defaults the real API server fills in on every write (the ones kubectl reads back). */
function defaultSpec(rd: ResourceDef, o: KObj): void {
  if (typeof o.spec !== 'object' || o.spec === null) return;
  const spec = o.spec as Record<string, unknown>;
  if (rd.kind === 'Deployment') {
    spec.replicas ??= 1;
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    spec.strategy ??= {
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' },
    };
  } else if (rd.kind === 'DaemonSet') {
    spec.revisionHistoryLimit ??= 10;
    spec.updateStrategy ??= {
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
    };
  } else if (rd.kind === 'ReplicaSet') {
    spec.replicas ??= 1;
  }
  const podSpec =
    rd.kind === 'Pod'
      ? spec
      : (spec.template as { spec?: Record<string, unknown> } | undefined)?.spec;
  if (podSpec) {
    podSpec.restartPolicy ??= 'Always';
    podSpec.terminationGracePeriodSeconds ??= 30;
    podSpec.dnsPolicy ??= 'ClusterFirst';
    podSpec.schedulerName ??= 'default-scheduler';
  }
}

function parseObject(text: string, yaml = false): KObj {
  let v: unknown;
  try {
    v = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw badRequest(`the body of the request was in an unknown format: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw badRequest('body must be an object');
  const o = v as KObj;
  if (o.metadata === undefined || o.metadata === null) o.metadata = { name: '' };
  if (typeof o.metadata.name !== 'string') o.metadata.name = '';
  return o;
}

interface Route {
  res: ResourceDef;
  ns?: string;
  name?: string;
  sub?: string;
}

/** Maps a path to a resource route; undefined for paths that are not resource paths. */
function route(segs: string[]): Route | undefined {
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 3) {
    group = '';
    version = segs[1]!;
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 4) {
    group = segs[1]!;
    version = segs[2]!;
    rest = segs.slice(3);
  } else return undefined;
  let ns: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const r = findResource(group, version, rest[2]!);
    if (r?.namespaced) {
      ns = rest[1]!;
      rest = rest.slice(2);
    }
  }
  const res = findResource(group, version, rest[0]!);
  if (!res || rest.length > 3) return undefined;
  return { res, ns, name: rest[1], sub: rest[2] };
}

/** Minimal OpenAPI v3 documents: kubectl reads them to learn that the server validates fields itself. */
function openApiV3Root(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const gvs = [
    { p: 'api/v1', g: '', v: 'v1' },
    ...apiGroups().map((g) => ({ p: `apis/${g.name}/${g.version}`, g: g.name, v: g.version })),
  ];
  for (const gv of gvs) paths[gv.p] = { serverRelativeURL: `/openapi/v3/${gv.p}?hash=SIM` };
  return { paths };
}

function openApiV3Doc(group: string, version: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const params = ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({
    name,
    in: 'query',
    schema: { type: 'string', uniqueItems: true },
  }));
  for (const r of resourcesOf(group, version)) {
    const base = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
    const p = r.namespaced
      ? `${base}/namespaces/{namespace}/${r.plural}/{name}`
      : `${base}/${r.plural}/{name}`;
    const gvk = { group, version, kind: r.kind };
    const op = (id: string): Record<string, unknown> => ({
      operationId: id,
      parameters: params,
      responses: { '200': { description: 'OK' } },
      'x-kubernetes-action': id.startsWith('patch') ? 'patch' : 'put',
      'x-kubernetes-group-version-kind': gvk,
    });
    paths[p] = { put: op(`replace${r.kind}`), patch: op(`patch${r.kind}`) };
    const cp = r.namespaced ? `${base}/namespaces/{namespace}/${r.plural}` : `${base}/${r.plural}`;
    paths[cp] = {
      post: { ...op(`create${r.kind}`), 'x-kubernetes-action': 'post' },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: SERVER_VERSION.gitVersion },
    paths,
    components: { schemas: {} },
  };
}

function age(ts: unknown): string {
  const t = typeof ts === 'string' ? Date.parse(ts) : NaN;
  if (Number.isNaN(t)) return '<unknown>';
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

const TABLE_COLUMNS = [
  { name: 'Name', type: 'string', format: 'name', description: 'Name of the object', priority: 0 },
  { name: 'Status', type: 'string', format: '', description: 'Phase of the object', priority: 0 },
  { name: 'Age', type: 'string', format: '', description: 'Time since creation', priority: 0 },
];

function tableRow(o: KObj, includeObject: string): Record<string, unknown> {
  const status = (o.status ?? {}) as { phase?: string };
  const object =
    includeObject === 'Object'
      ? o
      : includeObject === 'None'
        ? undefined
        : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
  return {
    cells: [o.metadata.name, status.phase ?? '', age(o.metadata.creationTimestamp)],
    ...(object ? { object } : {}),
  };
}

function table(objs: KObj[], rv: string, includeObject: string): Record<string, unknown> {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: rv },
    columnDefinitions: TABLE_COLUMNS,
    rows: objs.map((o) => tableRow(o, includeObject)),
  };
}

export class SimApiServer {
  readonly store: Store;
  private readonly server: Server;
  private readonly bookmarkIntervalMs: number;
  private readonly openWatches = new Set<ServerResponse>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly namespaceFinalizeMs: number;
  private nextClusterIp = 0;
  private readonly controllers?: Controllers;
  readonly kubelet?: ProcessKubelet;
  private readonly events: EventRecorder;
  private readonly deny: DenyRule[];
  private port = 0;
  /** The kubeconfig startSimCluster wrote (for kubeconfigInPods). */
  kubeconfigPath?: string;
  /** Upgraded (port-forward) connections, which server.close() does not end by itself. */
  private readonly upgraded = new Set<Duplex>();

  constructor(
    opts: SimClusterOptions = {},
    readonly network: SimNetwork = new SimNetwork(0),
  ) {
    this.store = new Store(opts.historyLimit);
    this.bookmarkIntervalMs = opts.bookmarkIntervalMs ?? DEFAULT_BOOKMARK_INTERVAL_MS;
    this.namespaceFinalizeMs = opts.namespaceFinalizeMs ?? DEFAULT_NAMESPACE_FINALIZE_MS;
    this.events = new EventRecorder(this.store);
    this.deny = opts.deny ?? [];
    const ns = findResource('', 'v1', 'namespaces')!;
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      this.store.create(ns, {
        metadata: { name },
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Active' },
      });
    }
    const node = findResource('', 'v1', 'nodes')!;
    for (const [i, name] of (opts.nodes ?? ['sim-node-1']).entries()) {
      this.store.create(node, {
        metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
        spec: {},
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: 'simulated kubelet is posting ready status',
            },
          ],
          addresses: [
            { type: 'InternalIP', address: this.network.nodeIp(i) },
            { type: 'Hostname', address: name },
          ],
          nodeInfo: {
            kubeletVersion: SERVER_VERSION.gitVersion,
            operatingSystem: 'linux',
            architecture: 'amd64',
          },
        },
      });
    }
    if (opts.controllers !== false) {
      this.kubelet = new ProcessKubelet(this.store, {
        images: opts.images,
        podEnv: opts.podEnv,
        apiPort: () => this.port,
        kubeconfig: () => (opts.kubeconfigInPods ? this.kubeconfigPath : undefined),
        events: this.events,
        network: this.network,
      });
      this.controllers = new Controllers(this.store, this.kubelet, this.events);
    }
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        const s: StatusError =
          e instanceof ApiError
            ? e.status
            : {
                code: 500,
                reason: 'InternalError',
                message: `Internal error occurred: ${(e as Error).message}`,
              };
        if (!res.headersSent) sendStatus(res, s);
        else res.end();
      });
    });
  }

  /** Upgrade requests: pods/portforward over WebSocket; anything else is refused with a Status. */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.upgraded.add(socket);
    socket.on('close', () => this.upgraded.delete(socket));
    const refuse = (s: StatusError): void => {
      const body = JSON.stringify(statusBody(s));
      socket.end(
        `HTTP/1.1 ${s.code} ${s.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    const url = new URL(req.url ?? '/', 'http://sim');
    const segs = url.pathname
      .split('/')
      .filter((x) => x !== '')
      .map(decodeURIComponent);
    const r = route(segs);
    if (!r || r.res.kind !== 'Pod' || r.sub !== 'portforward' || r.name === undefined) {
      return refuse({
        code: 404,
        reason: 'NotFound',
        message: 'the server could not find the requested resource',
      });
    }
    // Port-forward is authorized as `create` on pods/portforward (WebSocket upgrades too, 1.31+).
    const attrs: RequestAttributes = {
      verb: 'create',
      group: '',
      resource: 'pods',
      subresource: 'portforward',
      ...(r.ns ? { namespace: r.ns } : {}),
      name: r.name,
    };
    if (deniedBy(this.deny, attrs)) return refuse(forbidden(attrs));
    const pod = this.store.get(r.res, r.ns, r.name);
    if (!pod) return refuse(notFound(r.res, r.name).status);
    // In the pod's own network namespace 127.0.0.1 would reach a server bound to 0.0.0.0 or its
    // pod IP; here pods share the host's, so a server bound to its pod IP is tried second.
    const podIp = this.kubelet?.podIpOf(String(pod.metadata.uid));
    const targets = ['127.0.0.1', ...(podIp && podIp !== '127.0.0.1' ? [podIp] : [])];
    if ((pod.status as { phase?: string } | undefined)?.phase !== 'Running') {
      return refuse({
        code: 400,
        reason: 'BadRequest',
        message: `unable to upgrade connection: pod ${r.name} is not running`,
      });
    }
    const upgradeTo = String(req.headers.upgrade ?? '').toLowerCase();
    if (upgradeTo === 'spdy/3.1') {
      // kubectl: plain SPDY upgrade; ports come in each stream's headers (a `ports` query limits them).
      const protos = String(req.headers['x-stream-protocol-version'] ?? '')
        .split(',')
        .map((p) => p.trim());
      if (!protos.includes('portforward.k8s.io')) {
        return refuse({
          code: 403,
          reason: 'Forbidden',
          message: `unable to upgrade: no supported stream protocol in ${protos.join(', ')}`,
        });
      }
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n',
      );
      if (head.length > 0) socket.unshift(head);
      new SpdyPortForwardSession(
        socket,
        url.searchParams.has('ports') ? parsePorts(url.searchParams) : undefined,
        targets,
      );
      return;
    }
    const ports = parsePorts(url.searchParams);
    if (!ports)
      return refuse({
        code: 400,
        reason: 'BadRequest',
        message: 'query parameter "ports" is required and must hold ports 1-65535',
      });
    const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    if (upgrade === 'websocket' && PORT_FORWARD_PROTOCOLS.some((p) => offered.includes(p))) {
      return webSocketPortForward(req, socket, head, ports, targets);
    }
    return refuse({
      code: 400,
      reason: 'BadRequest',
      message: `unable to upgrade connection: unsupported upgrade ${upgrade} (protocols ${offered.join(', ')})`,
    });
  }

  async listen(): Promise<number> {
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  async close(): Promise<void> {
    this.controllers?.stop();
    this.events.close();
    const pods = this.kubelet?.stopAll();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const w of this.openWatches) w.end();
    for (const sock of this.upgraded) sock.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await pods;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const segs = url.pathname
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    const method = req.method ?? 'GET';
    if (method === 'GET') {
      const d = this.discovery(url.pathname, segs);
      if (d !== undefined) return sendJson(res, 200, d);
    }
    const r = route(segs);
    if (!r) {
      return sendStatus(res, {
        code: 404,
        reason: 'NotFound',
        message: 'the server could not find the requested resource',
      });
    }
    const q = url.searchParams;
    const { res: rd, sub } = r;
    const attrs: RequestAttributes = {
      verb: verbOf(
        method,
        r.name !== undefined,
        q.get('watch') === '1' || q.get('watch') === 'true',
      ),
      group: rd.group,
      resource: rd.plural,
      ...(sub ? { subresource: sub } : {}),
      ...(r.ns !== undefined && rd.namespaced ? { namespace: r.ns } : {}),
      ...(r.name !== undefined ? { name: r.name } : {}),
    };
    if (deniedBy(this.deny, attrs)) return sendStatus(res, forbidden(attrs));
    if (rd.virtual) {
      if (method !== 'POST' || r.name !== undefined) {
        throw new ApiError({
          code: 405,
          reason: 'MethodNotAllowed',
          message: 'the server does not allow this method on the requested resource',
        });
      }
      // SelfSubjectAccessReview: answered, never stored. kubectl sends it as protobuf; the
      // answer is JSON, which its Accept header also allows.
      const ctype = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      let spec: ReviewSpec | undefined;
      if (ctype === 'application/vnd.kubernetes.protobuf') {
        try {
          spec = decodeReviewProtobuf(await readRaw(req));
        } catch (e) {
          throw badRequest(`cannot decode protobuf body: ${(e as Error).message}`);
        }
      } else spec = parseObject(await readBody(req), bodyIsYaml(req)).spec as ReviewSpec;
      return sendJson(res, 201, {
        kind: rd.kind,
        apiVersion: apiVersionOf(rd),
        metadata: { creationTimestamp: null },
        spec: spec ?? {},
        status: reviewStatus(this.deny, spec),
      });
    }
    if (sub === 'log' && rd.kind === 'Pod' && method === 'GET') return this.podLog(req, res, r, q);
    if (sub !== undefined && !(sub === 'status' && rd.hasStatus)) {
      return sendStatus(res, {
        code: 404,
        reason: 'NotFound',
        message: 'the server could not find the requested resource',
      });
    }
    if (r.ns !== undefined && method !== 'GET' && method !== 'DELETE')
      this.checkNamespaceWritable(r.ns, method === 'POST');
    if (method === 'GET' && r.name === undefined) {
      let labels: Matcher;
      let fields: Matcher;
      try {
        labels = parseLabelSelector(q.get('labelSelector'));
        fields = parseFieldSelector(q.get('fieldSelector'));
      } catch (e) {
        if (e instanceof SelectorError) throw badRequest(e.message);
        throw e;
      }
      const match = (o: KObj): boolean => labels(o) && fields(o);
      if (q.get('watch') === '1' || q.get('watch') === 'true')
        return this.watch(req, res, r, match);
      return this.list(req, res, r, match);
    }
    if (method === 'GET') {
      const o = this.store.mustGet(rd, r.ns, r.name!);
      return sendJson(res, 200, o);
    }
    if (method === 'POST' && r.name === undefined) {
      const o = parseObject(await readBody(req), bodyIsYaml(req));
      this.validate(rd, r, o);
      this.applyDefaults(rd, o);
      if (q.get('dryRun') === 'All') return sendJson(res, 201, o);
      return sendJson(res, 201, this.store.create(rd, o));
    }
    if (method === 'PUT' && r.name !== undefined) {
      const o = parseObject(await readBody(req), bodyIsYaml(req));
      this.validate(rd, r, o);
      if (o.metadata.name !== r.name) {
        throw badRequest(
          `the name of the object (${o.metadata.name}) does not match the name on the URL (${r.name})`,
        );
      }
      const cur = this.store.get(rd, r.ns, r.name);
      if (!cur) {
        // PUT to a missing object creates it only when no resourceVersion precondition is given.
        if (o.metadata.resourceVersion) throw notFound(rd, r.name);
        this.applyDefaults(rd, o);
        return sendJson(res, 201, this.store.create(rd, o));
      }
      return sendJson(res, 200, this.store.update(rd, o, sub === 'status'));
    }
    if (method === 'PATCH' && r.name !== undefined) return this.patch(req, res, r);
    if (method === 'DELETE' && r.name !== undefined) {
      const body = await readBody(req);
      const opts =
        body.trim() === ''
          ? {}
          : (JSON.parse(body) as { preconditions?: { uid?: string; resourceVersion?: string } });
      const cur = this.store.mustGet(rd, r.ns, r.name);
      const pre = opts.preconditions ?? {};
      if (
        (pre.uid && pre.uid !== cur.metadata.uid) ||
        (pre.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion)
      ) {
        throw new ApiError({
          code: 409,
          reason: 'Conflict',
          message: `Operation cannot be fulfilled on ${rd.plural} "${r.name}": precondition failed`,
        });
      }
      if (rd.plural === 'namespaces') {
        if (UNDELETABLE_NAMESPACES.has(r.name)) {
          throw new ApiError({
            code: 403,
            reason: 'Forbidden',
            message: `namespaces "${r.name}" is forbidden: this namespace may not be deleted`,
            details: { name: r.name, kind: 'namespaces' },
          });
        }
        return sendJson(res, 200, this.terminateNamespace(cur));
      }
      return sendJson(res, 200, this.store.delete(rd, r.ns, r.name));
    }
    if (method === 'DELETE') {
      // deletecollection
      const labels = parseLabelSelector(q.get('labelSelector'));
      const fields = parseFieldSelector(q.get('fieldSelector'));
      const gone = this.store.list(rd, r.ns).filter((o) => labels(o) && fields(o));
      for (const o of gone) this.store.delete(rd, o.metadata.namespace, o.metadata.name);
      return sendJson(res, 200, {
        kind: `${rd.kind}List`,
        apiVersion: apiVersionOf(rd),
        metadata: { resourceVersion: String(this.store.resourceVersion) },
        items: gone,
      });
    }
    throw new ApiError({
      code: 405,
      reason: 'MethodNotAllowed',
      message: `the server does not allow this method on the requested resource`,
    });
  }

  /** pods/log: `container`, `previous`, `tailLines`, `follow` (streams until the container exits). */
  private podLog(req: IncomingMessage, res: ServerResponse, r: Route, q: URLSearchParams): void {
    const pod = this.store.mustGet(r.res, r.ns, r.name!);
    const tail = q.get('tailLines');
    const result = this.kubelet?.logs(pod, {
      ...(q.has('container') ? { container: q.get('container')! } : {}),
      previous: q.get('previous') === 'true',
      ...(tail !== null && /^-?\d+$/.test(tail) ? { tailLines: Number(tail) } : {}),
    }) ?? {
      ok: false as const,
      message: `container "${q.get('container') ?? ''}" in pod "${pod.metadata.name}" is waiting to start: ContainerCreating`,
    };
    if (!result.ok) throw badRequest(result.message);
    if (q.get('follow') === 'true' && result.follow) {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
      res.write(result.text);
      const stop = result.follow({
        onData: (b) => res.write(b),
        onEnd: () => res.end(),
      });
      this.openWatches.add(res);
      const cleanup = (): void => {
        stop();
        this.openWatches.delete(res);
      };
      req.on('close', cleanup);
      res.on('close', cleanup);
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/plain',
      'Content-Length': Buffer.byteLength(result.text),
    });
    res.end(result.text);
  }

  /**
   * Namespace deletion as the real server does it: the namespace turns Terminating at once (new
   * content is refused with 403), and a moment later its contents and then the namespace go.
   */
  private terminateNamespace(ns: KObj): KObj {
    const nsRes = findResource('', 'v1', 'namespaces')!;
    const name = ns.metadata.name;
    if (ns.metadata.deletionTimestamp) return ns;
    ns.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const updated = this.store.update(nsRes, ns);
    const terminating = this.store.update(
      nsRes,
      { ...updated, status: { phase: 'Terminating' } },
      true,
    );
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.store.deleteNamespaceContents(name);
      if (this.store.get(nsRes, undefined, name)) this.store.delete(nsRes, undefined, name);
    }, this.namespaceFinalizeMs);
    this.timers.add(timer);
    return terminating;
  }

  /** Server-side defaults applied on create (the subset clients here rely on). */
  private applyDefaults(rd: ResourceDef, o: KObj): void {
    if (rd.kind === 'Namespace') {
      o.spec = { finalizers: ['kubernetes'], ...((o.spec as object | undefined) ?? {}) };
      o.status = { phase: 'Active' };
    } else if (rd.kind === 'Pod') {
      // Clients cannot set status on create; the kubelet (or a test through /status) does.
      o.status = { phase: 'Pending' };
    } else if (rd.kind === 'Deployment' || rd.kind === 'DaemonSet' || rd.kind === 'ReplicaSet') {
      o.status = {};
    } else if (rd.kind === 'Service') {
      o.status = { loadBalancer: {} };
      const spec = (o.spec ?? {}) as Record<string, unknown>;
      spec.type ??= 'ClusterIP';
      if (spec.clusterIP === undefined && spec.type !== 'ExternalName') {
        this.nextClusterIp++;
        spec.clusterIP = `10.96.${Math.floor(this.nextClusterIp / 256) % 256}.${this.nextClusterIp % 256}`;
        spec.clusterIPs = [spec.clusterIP];
      }
      o.spec = spec;
    }
  }

  /** Writes into a missing namespace are 404, into a terminating one 403 (as the real admission chain). */
  private checkNamespaceWritable(ns: string, creating: boolean): void {
    const nsRes = findResource('', 'v1', 'namespaces')!;
    const o = this.store.get(nsRes, undefined, ns);
    if (!o) throw notFound(nsRes, ns);
    if (creating && o.metadata.deletionTimestamp) {
      throw new ApiError({
        code: 403,
        reason: 'Forbidden',
        message: `unable to create new content in namespace ${ns} because it is being terminated`,
      });
    }
  }

  private validate(rd: ResourceDef, r: Route, o: KObj): void {
    if (o.kind !== undefined && o.kind !== rd.kind) {
      throw badRequest(
        `the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${apiVersionOf(rd)}) or kind ${String(o.kind)} is not ${rd.kind}`,
      );
    }
    const meta = o.metadata;
    if (!meta.name && typeof meta.generateName !== 'string') {
      throw invalid(rd, '', 'metadata.name', 'Required value: name or generateName is required');
    }
    if (meta.name && !DNS1123_SUBDOMAIN.test(meta.name)) {
      throw invalid(
        rd,
        meta.name,
        'metadata.name',
        `Invalid value: "${meta.name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
      );
    }
    if (rd.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== r.ns) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      meta.namespace = r.ns;
    } else delete meta.namespace;
    defaultSpec(rd, o);
    if (rd.kind === 'Secret' && o.stringData && typeof o.stringData === 'object') {
      // stringData is write-only: the server merges it into data (base64) and drops it.
      const data = { ...((o.data ?? {}) as Record<string, string>) };
      for (const [k, v] of Object.entries(o.stringData as Record<string, string>)) {
        data[k] = Buffer.from(String(v), 'utf8').toString('base64');
      }
      o.data = data;
      delete o.stringData;
    }
    if (rd.kind === 'Pod') {
      const containers = (o.spec as { containers?: unknown[] } | undefined)?.containers;
      if (!Array.isArray(containers) || containers.length === 0) {
        throw invalid(rd, meta.name, 'spec.containers', 'Required value');
      }
    }
    if (rd.kind === 'Deployment' || rd.kind === 'DaemonSet' || rd.kind === 'ReplicaSet') {
      const spec = (o.spec ?? {}) as {
        selector?: { matchLabels?: Record<string, string> };
        template?: { metadata?: { labels?: Record<string, string> } };
      };
      const sel = spec.selector?.matchLabels ?? {};
      const labels = spec.template?.metadata?.labels ?? {};
      if (Object.keys(sel).length === 0)
        throw invalid(rd, meta.name, 'spec.selector', 'Required value');
      if (!Object.entries(sel).every(([k, v]) => labels[k] === v)) {
        throw invalid(
          rd,
          meta.name,
          'spec.template.metadata.labels',
          '`selector` does not match template `labels`',
        );
      }
    }
  }

  private async patch(req: IncomingMessage, res: ServerResponse, r: Route): Promise<void> {
    const { res: rd, ns, sub } = r;
    const name = r.name!;
    const ctype = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    const text = await readBody(req);
    const cur = this.store.get(rd, ns, name);
    if (ctype === 'application/apply-patch+yaml') {
      // Server-side apply, simplified: create if missing, else merge the applied configuration.
      const applied = parseObject(text, true);
      applied.metadata.name ||= name;
      this.validate(rd, r, applied);
      if (!cur) {
        this.applyDefaults(rd, applied);
        return sendJson(res, 201, this.store.create(rd, applied));
      }
      const merged = strategicMergePatch(
        cur as unknown as Json,
        applied as unknown as Json,
      ) as unknown as KObj;
      merged.metadata.resourceVersion = cur.metadata.resourceVersion;
      return sendJson(res, 200, this.store.update(rd, merged, sub === 'status'));
    }
    if (!cur) throw notFound(rd, name);
    let patchDoc: unknown;
    try {
      patchDoc = JSON.parse(text);
    } catch (e) {
      throw badRequest(`error decoding patch: ${(e as Error).message}`);
    }
    let next: Json;
    try {
      if (ctype === 'application/json-patch+json')
        next = jsonPatch(cur as unknown as Json, patchDoc);
      else if (ctype === 'application/merge-patch+json')
        next = mergePatch(cur as unknown as Json, patchDoc as Json);
      else if (ctype === 'application/strategic-merge-patch+json')
        next = strategicMergePatch(cur as unknown as Json, patchDoc as Json);
      else {
        throw new ApiError({
          code: 415,
          reason: 'UnsupportedMediaType',
          message: `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
        });
      }
    } catch (e) {
      if (e instanceof PatchError) {
        throw new ApiError({ code: 422, reason: 'Invalid', message: e.message });
      }
      throw e;
    }
    const obj = next as unknown as KObj;
    if (obj.metadata.name !== name) throw badRequest('metadata.name cannot be changed by a patch');
    this.validate(rd, r, obj);
    // A patch carries a resourceVersion precondition only if the patch itself sets one.
    const patchRv = (patchDoc as { metadata?: { resourceVersion?: string } } | null)?.metadata
      ?.resourceVersion;
    obj.metadata.resourceVersion =
      ctype === 'application/json-patch+json'
        ? obj.metadata.resourceVersion
        : (patchRv ?? cur.metadata.resourceVersion);
    return sendJson(res, 200, this.store.update(rd, obj, sub === 'status'));
  }

  private list(
    req: IncomingMessage,
    res: ServerResponse,
    r: Route,
    match: (o: KObj) => boolean,
  ): void {
    const q = new URL(req.url ?? '/', 'http://sim').searchParams;
    const limit = Number(q.get('limit') ?? 0);
    const cont = q.get('continue');
    const paged = !!cont || limit > 0;
    // The stored objects, read-only; only what is sent is copied.
    let items = this.store.list(r.res, r.ns, false, !paged).filter(match);
    let rv = String(this.store.resourceVersion);
    // Pagination (limit/continue): pages in key order; the token carries the first page's
    // resourceVersion and the last key sent. Simplified: later pages read the current state,
    // not a snapshot at that resourceVersion.
    let next: string | undefined;
    let remaining = 0;
    if (paged) {
      let keyed = items.map(
        (o) => [`${o.metadata.namespace ?? ''}/${o.metadata.name}`, o] as const,
      );
      keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      if (cont) {
        let tok: { rv: string; after: string };
        try {
          tok = JSON.parse(Buffer.from(cont, 'base64url').toString()) as typeof tok;
        } catch {
          throw badRequest('continue key is not valid');
        }
        rv = tok.rv;
        keyed = keyed.filter(([k]) => k > tok.after);
      }
      if (limit > 0 && keyed.length > limit) {
        remaining = keyed.length - limit;
        keyed = keyed.slice(0, limit);
        const after = keyed[keyed.length - 1]![0];
        next = Buffer.from(JSON.stringify({ rv, after })).toString('base64url');
      }
      items = keyed.map(([, o]) => o);
    }
    items = items.map((o) => structuredClone(o));
    const accept = req.headers.accept ?? '';
    if (accept.includes('as=Table')) {
      return sendJson(res, 200, table(items, rv, q.get('includeObject') ?? 'Metadata'));
    }
    sendJson(res, 200, {
      kind: `${r.res.kind}List`,
      apiVersion: apiVersionOf(r.res),
      metadata: {
        resourceVersion: rv,
        ...(next ? { continue: next, remainingItemCount: remaining } : {}),
      },
      items,
    });
  }

  /**
   * Watch: streams JSON lines. Resuming at resourceVersion N replays retained events after N; N
   * older than the retained history yields one ERROR event carrying a 410 Expired Status. Without
   * resourceVersion (or "0") the current objects are sent as ADDED first.
   */
  private watch(
    req: IncomingMessage,
    res: ServerResponse,
    r: Route,
    match: (o: KObj) => boolean,
  ): void {
    const q = new URL(req.url ?? '/', 'http://sim').searchParams;
    const asTable = (req.headers.accept ?? '').includes('as=Table');
    const includeObject = q.get('includeObject') ?? 'Metadata';
    const rvParam = q.get('resourceVersion') ?? '';
    if (rvParam !== '' && !/^\d+$/.test(rvParam)) {
      throw badRequest(`invalid resource version: ${rvParam}`);
    }
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders();
    const write = (type: string, object: unknown): void => {
      res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const send = (type: string, o: KObj): void => {
      write(type, asTable ? table([o], o.metadata.resourceVersion ?? '', includeObject) : o);
    };
    const inScope = (ev: StoredEvent): boolean =>
      ev.res === r.res &&
      (r.ns === undefined || !r.res.namespaced || ev.object.metadata.namespace === r.ns) &&
      (r.name === undefined || ev.object.metadata.name === r.name) &&
      match(ev.object);
    let since: number;
    if (rvParam === '' || rvParam === '0') {
      for (const o of this.store.list(r.res, r.ns)) if (match(o)) send('ADDED', o);
      since = this.store.resourceVersion;
    } else {
      since = Number(rvParam);
      if (since < this.store.oldestResumable) {
        write(
          'ERROR',
          statusBody({
            code: 410,
            reason: 'Expired',
            message: `too old resource version: ${since} (${this.store.oldestResumable + 1})`,
          }),
        );
        res.end();
        return;
      }
      for (const ev of this.store.eventsSince(since)) if (inScope(ev)) send(ev.type, ev.object);
    }
    this.openWatches.add(res);
    const unsubscribe = this.store.subscribe((ev) => {
      if (ev.rv > since && inScope(ev)) send(ev.type, ev.object);
    });
    const bookmarks =
      q.get('allowWatchBookmarks') === 'true'
        ? setInterval(() => {
            write('BOOKMARK', {
              kind: r.res.kind,
              apiVersion: apiVersionOf(r.res),
              metadata: { resourceVersion: String(this.store.resourceVersion) },
            });
          }, this.bookmarkIntervalMs)
        : undefined;
    const timeoutS = Number(q.get('timeoutSeconds') ?? DEFAULT_WATCH_TIMEOUT_S);
    const timer = setTimeout(() => res.end(), timeoutS * 1000);
    const cleanup = (): void => {
      unsubscribe();
      clearInterval(bookmarks);
      clearTimeout(timer);
      this.openWatches.delete(res);
    };
    res.on('close', cleanup);
    res.on('finish', cleanup);
  }

  private discovery(path: string, segs: string[]): unknown {
    const p = path.replace(/\/$/, '');
    if (p === '/version') return SERVER_VERSION;
    if (p === '/healthz' || p === '/livez' || p === '/readyz') return 'ok';
    if (p === '/api') {
      return {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }],
      };
    }
    if (p === '/apis') {
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: apiGroups().map((g) => {
          const gv = { groupVersion: `${g.name}/${g.version}`, version: g.version };
          return { name: g.name, versions: [gv], preferredVersion: gv };
        }),
      };
    }
    if (p === '/api/v1') return apiResourceList('', 'v1');
    if (segs[0] === 'apis' && segs.length === 2) {
      const g = apiGroups().find((x) => x.name === segs[1]);
      if (!g) return undefined;
      const gv = { groupVersion: `${g.name}/${g.version}`, version: g.version };
      return {
        kind: 'APIGroup',
        apiVersion: 'v1',
        name: g.name,
        versions: [gv],
        preferredVersion: gv,
      };
    }
    if (segs[0] === 'apis' && segs.length === 3 && resourcesOf(segs[1]!, segs[2]!).length > 0) {
      return apiResourceList(segs[1]!, segs[2]!);
    }
    if (p === '/openapi/v3') return openApiV3Root();
    if (segs[0] === 'openapi' && segs[1] === 'v3') {
      if (segs[2] === 'api' && segs[3] === 'v1' && segs.length === 4) return openApiV3Doc('', 'v1');
      if (segs[2] === 'apis' && segs.length === 5 && resourcesOf(segs[3]!, segs[4]!).length > 0) {
        return openApiV3Doc(segs[3]!, segs[4]!);
      }
    }
    return undefined;
  }
}

/** Starts a simulated cluster on 127.0.0.1:<random port> and writes a kubeconfig pointing at it. */
export async function startSimCluster(opts: SimClusterOptions = {}): Promise<SimCluster> {
  const lease = await leaseNetwork();
  const api = new SimApiServer(opts, lease.net);
  const port = await api.listen();
  const url = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'kube-sim-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  api.kubeconfigPath = kubeconfigPath;
  writeFileSync(
    kubeconfigPath,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: sim',
      '  cluster:',
      `    server: ${url}`,
      // client-node refuses plain http unless TLS verification is (vacuously) skipped.
      '    insecure-skip-tls-verify: true',
      'users:',
      `- name: ${SIM_USER}`,
      '  user:',
      '    token: sim-token',
      'contexts:',
      '- name: sim',
      '  context:',
      '    cluster: sim',
      `    user: ${SIM_USER}`,
      '    namespace: default',
      'current-context: sim',
      '',
    ].join('\n'),
  );
  return {
    url,
    port,
    kubeconfigPath,
    store: api.store,
    clusterDns: api.kubelet?.clusterDnsAvailable ?? false,
    network: lease.net,
    async close() {
      await api.close();
      await lease.release();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
