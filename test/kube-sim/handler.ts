/**
 * Request handling of the simulated API server: paths to resource routes, authorization, CRUD,
 * pods/log, namespace deletion, SelfSubjectAccessReview, and upgrades (pods/portforward). Errors
 * thrown anywhere below become Status responses here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { apiVersionOf, findResource } from './resources.ts';
import type { KObj, StatusError } from './store.ts';
import { ApiError, notFound } from './store.ts';
import type { RequestAttributes, ReviewSpec } from './authz.ts';
import { decodeReviewProtobuf, deniedBy, forbidden, reviewStatus, verbOf } from './authz.ts';
import { PORT_FORWARD_PROTOCOLS, parsePorts, webSocketPortForward } from './portforward.ts';
import { SpdyPortForwardSession } from './spdy.ts';
import type { ResourceCall, Route, SimState } from './http.ts';
import {
  NO_SUCH_PATH,
  badRequest,
  contentType,
  readBody,
  parseObject,
  readObject,
  readRaw,
  sendJson,
  sendStatus,
  statusBody,
} from './http.ts';
import { discoveryDocument } from './discovery.ts';
import {
  applyCreateDefaults,
  checkNamespaceDeletable,
  checkNamespaceWritable,
  validate,
} from './validation.ts';
import { servePatch } from './patch-request.ts';
import { isWatch, selectorsOf, serveCollection } from './list-watch.ts';

/** The decoded, non-empty segments of a request path. */
function pathSegments(url: URL): string[] {
  return url.pathname
    .split('/')
    .filter((s) => s !== '')
    .map(decodeURIComponent);
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

function methodNotAllowed(): ApiError {
  return new ApiError({
    code: 405,
    reason: 'MethodNotAllowed',
    message: 'the server does not allow this method on the requested resource',
  });
}

/** Answers one HTTP request; an error thrown while handling it becomes a Status response. */
export function serveRequest(st: SimState, req: IncomingMessage, res: ServerResponse): void {
  handle(st, req, res).catch((e: unknown) => {
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
}

async function handle(st: SimState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sim');
  const segs = pathSegments(url);
  const method = req.method ?? 'GET';
  if (method === 'GET') {
    const d = discoveryDocument(url.pathname, segs);
    if (d !== undefined) return sendJson(res, 200, d);
  }
  const r = route(segs);
  if (!r) return sendStatus(res, NO_SUCH_PATH);
  const q = url.searchParams;
  const { res: rd, sub } = r;
  const attrs: RequestAttributes = {
    verb: verbOf(method, r.name !== undefined, isWatch(q)),
    group: rd.group,
    resource: rd.plural,
    ...(sub ? { subresource: sub } : {}),
    ...(r.ns !== undefined && rd.namespaced ? { namespace: r.ns } : {}),
    ...(r.name !== undefined ? { name: r.name } : {}),
  };
  if (deniedBy(st.deny, attrs)) return sendStatus(res, forbidden(attrs));
  const call: ResourceCall = { req, res, method, r, q };
  if (rd.virtual) return serveReview(st, call);
  if (sub === 'log' && rd.kind === 'Pod' && method === 'GET') return podLog(st, call);
  if (sub !== undefined && !(sub === 'status' && rd.hasStatus)) {
    return sendStatus(res, NO_SUCH_PATH);
  }
  if (r.ns !== undefined && method !== 'GET' && method !== 'DELETE')
    checkNamespaceWritable(st.store, r.ns, method === 'POST');
  if (method === 'GET' && r.name === undefined) return serveCollection(st, call);
  if (method === 'GET') {
    const o = st.store.mustGet(rd, r.ns, r.name!);
    return sendJson(res, 200, o);
  }
  if (method === 'POST' && r.name === undefined) {
    const o = await readObject(req);
    validate(rd, r.ns, o);
    applyCreateDefaults(rd, o, st.clusterIps);
    if (q.get('dryRun') === 'All') return sendJson(res, 201, o);
    return sendJson(res, 201, st.store.create(rd, o));
  }
  if (method === 'PUT' && r.name !== undefined) {
    const o = await readObject(req);
    validate(rd, r.ns, o);
    if (o.metadata.name !== r.name) {
      throw badRequest(
        `the name of the object (${o.metadata.name}) does not match the name on the URL (${r.name})`,
      );
    }
    const cur = st.store.get(rd, r.ns, r.name);
    if (!cur) {
      // PUT to a missing object creates it only when no resourceVersion precondition is given.
      if (o.metadata.resourceVersion) throw notFound(rd, r.name);
      applyCreateDefaults(rd, o, st.clusterIps);
      return sendJson(res, 201, st.store.create(rd, o));
    }
    return sendJson(res, 200, st.store.update(rd, o, sub === 'status'));
  }
  if (method === 'PATCH' && r.name !== undefined) return servePatch(st, call);
  if (method === 'DELETE' && r.name !== undefined) return deleteObject(st, call);
  if (method === 'DELETE') {
    // deletecollection
    const gone = st.store.list(rd, r.ns).filter(selectorsOf(q));
    for (const o of gone) st.store.delete(rd, o.metadata.namespace, o.metadata.name);
    return sendJson(res, 200, {
      kind: `${rd.kind}List`,
      apiVersion: apiVersionOf(rd),
      metadata: { resourceVersion: String(st.store.resourceVersion) },
      items: gone,
    });
  }
  throw methodNotAllowed();
}

/**
 * SelfSubjectAccessReview: answered, never stored. kubectl sends it as protobuf; the answer is
 * JSON, which its Accept header also allows.
 */
async function serveReview(st: SimState, call: ResourceCall): Promise<void> {
  const { req, res, r } = call;
  const rd = r.res;
  if (call.method !== 'POST' || r.name !== undefined) throw methodNotAllowed();
  let spec: ReviewSpec | undefined;
  if (contentType(req) === 'application/vnd.kubernetes.protobuf') {
    try {
      spec = decodeReviewProtobuf(await readRaw(req));
    } catch (e) {
      throw badRequest(`cannot decode protobuf body: ${(e as Error).message}`);
    }
  } else spec = (await readObject(req)).spec as ReviewSpec;
  return sendJson(res, 201, {
    kind: rd.kind,
    apiVersion: apiVersionOf(rd),
    metadata: { creationTimestamp: null },
    spec: spec ?? {},
    status: reviewStatus(st.deny, spec),
  });
}

/** DELETE of one object: uid/resourceVersion preconditions; namespaces terminate first. */
async function deleteObject(st: SimState, { req, res, r }: ResourceCall): Promise<void> {
  const { res: rd, ns } = r;
  const name = r.name!;
  const body = await readBody(req);
  // DeleteOptions; a body that is not an object is 400 as for any other request.
  const opts = (body.trim() === '' ? {} : parseObject(body)) as {
    preconditions?: { uid?: string; resourceVersion?: string };
  };
  const cur = st.store.mustGet(rd, ns, name);
  const pre = opts.preconditions ?? {};
  if (
    (pre.uid && pre.uid !== cur.metadata.uid) ||
    (pre.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion)
  ) {
    throw new ApiError({
      code: 409,
      reason: 'Conflict',
      message: `Operation cannot be fulfilled on ${rd.plural} "${name}": precondition failed`,
    });
  }
  if (rd.plural === 'namespaces') {
    checkNamespaceDeletable(name);
    return sendJson(res, 200, terminateNamespace(st, cur));
  }
  return sendJson(res, 200, st.store.delete(rd, ns, name));
}

/**
 * Namespace deletion as the real server does it: the namespace turns Terminating at once (new
 * content is refused with 403), and a moment later its contents and then the namespace go.
 */
function terminateNamespace(st: SimState, ns: KObj): KObj {
  const nsRes = findResource('', 'v1', 'namespaces')!;
  const name = ns.metadata.name;
  if (ns.metadata.deletionTimestamp) return ns;
  ns.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const updated = st.store.update(nsRes, ns);
  const terminating = st.store.update(
    nsRes,
    { ...updated, status: { phase: 'Terminating' } },
    true,
  );
  const timer = setTimeout(() => {
    st.timers.delete(timer);
    st.store.deleteNamespaceContents(name);
    if (st.store.get(nsRes, undefined, name)) st.store.delete(nsRes, undefined, name);
  }, st.namespaceFinalizeMs);
  st.timers.add(timer);
  return terminating;
}

/** pods/log: `container`, `previous`, `tailLines`, `follow` (streams until the container exits). */
function podLog(st: SimState, { req, res, r, q }: ResourceCall): void {
  const pod = st.store.mustGet(r.res, r.ns, r.name!);
  const tail = q.get('tailLines');
  const result = st.kubelet?.logs(pod, {
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
    st.openWatches.add(res);
    const cleanup = (): void => {
      stop();
      st.openWatches.delete(res);
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

/** Upgrade requests: pods/portforward over WebSocket or SPDY; anything else is refused with a Status. */
export function serveUpgrade(
  st: SimState,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  st.upgraded.add(socket);
  socket.on('close', () => st.upgraded.delete(socket));
  const refuse = (s: StatusError): void => {
    const body = JSON.stringify(statusBody(s));
    socket.end(
      `HTTP/1.1 ${s.code} ${s.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  };
  const url = new URL(req.url ?? '/', 'http://sim');
  const r = route(pathSegments(url));
  if (!r || r.res.kind !== 'Pod' || r.sub !== 'portforward' || r.name === undefined) {
    return refuse(NO_SUCH_PATH);
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
  if (deniedBy(st.deny, attrs)) return refuse(forbidden(attrs));
  const pod = st.store.get(r.res, r.ns, r.name);
  if (!pod) return refuse(notFound(r.res, r.name).status);
  // In the pod's own network namespace 127.0.0.1 would reach a server bound to 0.0.0.0 or its
  // pod IP; here pods share the host's, so a server bound to its pod IP is tried second.
  const podIp = st.kubelet?.podIpOf(String(pod.metadata.uid));
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
  const offered = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim());
  if (upgradeTo === 'websocket' && PORT_FORWARD_PROTOCOLS.some((p) => offered.includes(p))) {
    return webSocketPortForward(req, socket, head, ports, targets);
  }
  return refuse({
    code: 400,
    reason: 'BadRequest',
    message: `unable to upgrade connection: unsupported upgrade ${upgradeTo} (protocols ${offered.join(', ')})`,
  });
}
