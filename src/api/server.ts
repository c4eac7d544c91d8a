/**
 * The one HTTP server of every role, on Fastify: `createHttpServer` makes the instance (the
 * worker's, the hub's, the front's) with the request gate every request passes first (API
 * calls, stream upgrades, the front's files and proxy) — where authentication, Host and Origin
 * checks go — and `serveApi` registers the route table (src/api/routes.ts) with a role's
 * handlers: JSON routes validated by their zod schemas, `/api/stream` over @fastify/websocket
 * with the shared handshake (src/api/stream.ts), the role's raw routes (the hub's `/api/mcp`).
 *
 * Answers are exactly what the API promises: JSON with `cache-control: no-store`, errors as
 * `ApiErrorBody` with their status (src/api/errors.ts), other methods 405 (`allow: GET, HEAD`),
 * unknown routes 404, upgrades anywhere but the stream 404.
 */
import { channel } from 'node:diagnostics_channel';
import type { Server } from 'node:http';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { z } from 'zod';
import { KsError } from '../util/errors.ts';
import { errorOf } from './errors.ts';
import { LOCAL_POLICY, checkAccess, setPublicBase, type AccessPolicy } from './origin.ts';
import { paramsOf, usageError } from './params.ts';
import {
  API_ROUTES,
  JSON_ROUTES,
  callRoute,
  notFound,
  type ApiHandlers,
  type RawHandler,
  type RawRouteName,
  type Role,
} from './routes.ts';
import { STREAM_MAX_CLIENT_MESSAGE_BYTES, acceptStream, type StreamProvider } from './stream.ts';
import type { Params } from './types.ts';

/** What a role serves: the route table's handlers, the live stream, its raw routes. */
export interface NodeApi {
  readonly role: Role;
  /** One method per JSON route (the worker over its store, the hub by fan-out). */
  readonly handlers: ApiHandlers;
  /** `/api/stream`. */
  readonly stream: StreamProvider;
  /** The role's raw routes (the hub: `mcp`). */
  readonly raw?: Partial<Record<RawRouteName, RawHandler>>;
  /** A JSON route in process (validated and answered as over HTTP; throws its error). */
  call(path: string, params: Params): Promise<unknown>;
}

/**
 * A NodeApi from its parts (`call` runs the route table in process). A role serves exactly the
 * raw routes the table gives it.
 */
export function nodeApi(parts: Omit<NodeApi, 'call'>): NodeApi {
  for (const name of Object.keys(API_ROUTES) as (keyof typeof API_ROUTES)[]) {
    const r = API_ROUTES[name];
    if (r.kind !== 'raw') continue;
    const has = parts.raw?.[name as RawRouteName] !== undefined;
    if (has !== (r.roles as readonly Role[]).includes(parts.role)) {
      throw new Error(
        `route ${name} (${r.path}): ${has ? 'not' : 'to be'} served by a ${parts.role}`,
      );
    }
  }
  return { ...parts, call: (path, params) => callRoute(parts.handlers, path, params) };
}

/** Who serves (the gate's and the diagnostics' view); `metrics`: a worker's Prometheus port. */
export type ServerRole = Role | 'front' | 'metrics';

/**
 * Diagnostics channel: every request any role's server receives, as it enters the gate:
 * `{ role, method, url, upgrade }` (nothing is published without a subscriber).
 */
export const REQUEST_CHANNEL = 'kubeshark:http.request';
const requests = channel(REQUEST_CHANNEL);

/** Route config of the routes that take WebSocket upgrades. */
export const UPGRADE_ROUTE = { upgrade: true } as const;

/** Keep-alive sockets must not hold a closing server open for long. */
export const HTTP_KEEP_ALIVE_TIMEOUT_MS = 5000;
/** Time a client has to send a whole request (node's default). */
export const HTTP_REQUEST_TIMEOUT_MS = 300_000;

/**
 * The gate: every request of every role passes here first, before routing decides anything
 * else. The access checks (src/api/origin.ts: Host allow-list, Origin on upgrades and
 * state-changing requests, `Sec-Fetch-Site`, trusted forwarded headers) refuse with 403
 * `KS_ERR_FORBIDDEN`. Upgrades are refused (404) except on the routes that take them.
 * Authentication belongs here too (DESIGN.md, security model).
 */
function gate(role: ServerRole, policy: AccessPolicy) {
  return (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
    const upgrade = (req.raw as { upgrade?: boolean }).upgrade === true;
    if (requests.hasSubscribers) {
      requests.publish({ role, method: req.method, url: req.url, upgrade });
    }
    const access = checkAccess(
      {
        method: req.method,
        upgrade,
        headers: req.headers,
        remoteAddress: req.raw.socket?.remoteAddress,
      },
      policy,
    );
    if (!access.ok) {
      if (upgrade) reply.raw.once('finish', () => req.raw.socket.destroy());
      void sendError(
        reply.header('connection', 'close'),
        new KsError('KS_ERR_FORBIDDEN', access.reason),
      );
      return;
    }
    setPublicBase(req.raw, access.publicBase);
    if (
      upgrade &&
      (req.routeOptions.config as { upgrade?: boolean } | undefined)?.upgrade !== true
    ) {
      // The answer goes out on the upgrading socket, which nothing else will close.
      reply.raw.once('finish', () => req.raw.socket.destroy());
      void reply.code(404).header('connection', 'close').send();
      return;
    }
    done();
  };
}

/** Sends a JSON answer the API's way. */
export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(body));
}

/** Sends a thrown error as `ApiErrorBody` with its status. */
export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  // Fastify's own client errors (a bad URL, a malformed header) are usage errors, not bugs.
  const fst = err as { code?: unknown; statusCode?: unknown; message?: unknown } | null;
  if (
    !(err instanceof KsError) &&
    typeof fst?.code === 'string' &&
    fst.code.startsWith('FST_') &&
    typeof fst.statusCode === 'number' &&
    fst.statusCode >= 400 &&
    fst.statusCode < 500
  ) {
    return sendJson(reply, fst.statusCode, {
      error: { code: 'KS_ERR_USAGE', message: String(fst.message) },
    });
  }
  const { status, body } = errorOf(err);
  return sendJson(reply, status, body);
}

/**
 * A Fastify instance for one role, with the gate, the API's error answers and validation from
 * zod schemas. Request bodies are not read unless a route does (a body is handed over as a
 * stream: the front's proxy streams it on, `/api/mcp` reads it).
 */
export function createHttpServer(
  role: ServerRole,
  access: AccessPolicy = LOCAL_POLICY,
): FastifyInstance {
  const app = Fastify({
    logger: false,
    keepAliveTimeout: HTTP_KEEP_ALIVE_TIMEOUT_MS,
    requestTimeout: HTTP_REQUEST_TIMEOUT_MS,
    // While closing, requests still get the role's own answer (a worker: 503 KS_ERR_UNAVAILABLE).
    return503OnClosing: false,
    // A malformed URL (`%zz`) is the client's error, answered like the others.
    frameworkErrors: (err, _req, reply) => void sendError(reply, err),
    // Parameters are read as the client and the in-process calls read them: first value wins.
    routerOptions: {
      querystringParser: (s: string) => paramsOf(new URLSearchParams(s)),
    },
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
  app.addHook('onRequest', gate(role, access));
  app.setValidatorCompiler(({ schema }) => (data: unknown) => {
    const r = (schema as z.ZodType).safeParse(data ?? {});
    return r.success ? { value: r.data } : { error: usageError(r.error) };
  });
  app.setErrorHandler((err, _req, reply) => sendError(reply, err));
  // Connections still open when the role closes are closed with it (in-flight answers too).
  app.addHook('preClose', (done) => {
    app.server.closeAllConnections();
    done();
  });
  return app;
}

/** Answers what no route of the table takes: other methods 405, unknown paths 404. */
function unrouted(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    reply.header('allow', 'GET, HEAD');
    return sendJson(reply, 405, {
      error: { code: 'KS_ERR_USAGE', message: `${req.method} not allowed` },
    });
  }
  const path = req.url.split('?', 1)[0]!;
  return sendError(reply, notFound(path));
}

/**
 * Registers the route table on `app` with `api`'s handlers: every JSON route (GET and HEAD),
 * `/api/stream`, the role's raw routes, and `/api/*` for the rest (405/404). With `all`, every
 * other path is answered 405/404 too (the worker's and hub's own servers; the front serves files).
 */
export async function serveApi(
  app: FastifyInstance,
  api: NodeApi,
  opts: { all: boolean },
): Promise<void> {
  await app.register(websocket, {
    options: { maxPayload: STREAM_MAX_CLIENT_MESSAGE_BYTES },
    // Stream clients are cut at once when the role closes (no close handshake to wait for).
    preClose(done) {
      for (const ws of app.websocketServer.clients) ws.terminate();
      app.websocketServer.close(() => done());
    },
  });
  for (const { name, route } of JSON_ROUTES) {
    const handler = api.handlers[name] as (q: unknown) => unknown;
    app.route({
      method: route.method,
      url: route.path,
      schema: { querystring: route.query, ...(route.params ? { params: route.params } : {}) },
      // `/api/entries/` is no route, as in process (an empty path parameter matches nothing).
      ...(route.params && {
        preValidation: (req: FastifyRequest, _reply: FastifyReply, done: (e?: Error) => void) =>
          done(
            Object.values(req.params as object).includes('')
              ? notFound(req.url.split('?', 1)[0]!)
              : undefined,
          ),
      }),
      handler: async (req, reply) => {
        const q = { ...(req.query as object), ...(req.params as object) };
        return sendJson(reply, 200, await handler.call(api.handlers, q));
      },
    });
  }
  const stream = API_ROUTES.stream;
  app.route({
    method: stream.method,
    url: stream.path,
    config: UPGRADE_ROUTE,
    handler: (req) => {
      throw notFound(req.url.split('?', 1)[0]!);
    },
    wsHandler: (ws: WebSocket, req: FastifyRequest) =>
      acceptStream(ws, req.query as Params, api.stream),
  });
  for (const [name, handler] of Object.entries(api.raw ?? {}) as [RawRouteName, RawHandler][]) {
    const raw = (req: FastifyRequest, reply: FastifyReply): void => {
      reply.hijack();
      handler(req.raw, reply.raw);
    };
    app.all(API_ROUTES[name].path, raw);
    app.all(`${API_ROUTES[name].path}/*`, raw);
  }
  app.all('/api', unrouted);
  app.all('/api/*', unrouted);
  if (opts.all) app.setNotFoundHandler(unrouted);
}

/** A role's API server: the route table with `api`'s handlers, ready to listen. */
export async function createApiServer(
  api: NodeApi,
  access?: AccessPolicy,
): Promise<FastifyInstance> {
  const app = createHttpServer(api.role, access);
  await serveApi(app, api, { all: true });
  await app.ready();
  return app;
}

/** Listens on `port` (0: any free port) and `host`; resolves the bound port. */
export function listen(server: Server, port: number, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      const where = `${host ?? '*'}:${port}`;
      const why =
        err.code === 'EADDRINUSE'
          ? 'the port is in use'
          : err.code === 'EACCES'
            ? 'permission denied'
            : err.message;
      reject(new KsError('KS_ERR_LISTEN', `cannot listen on ${where}: ${why}`, { cause: err }));
    };
    const onListening = (): void => {
      server.off('error', onError);
      const a = server.address();
      resolve(typeof a === 'object' && a !== null ? a.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/**
 * A role's server as the roles hold it: made on `listen` (once), closed with the role — its
 * stream clients and every open connection with it.
 */
export class RoleServer {
  private app: Promise<FastifyInstance> | undefined;

  constructor(
    private readonly name: string,
    private readonly make: () => Promise<FastifyInstance>,
  ) {}

  /** Listens on `port` (0: any free port) and `host`; resolves the bound port. */
  async listen(port: number, host?: string): Promise<number> {
    if (this.app) throw new Error(`${this.name} is already listening`);
    this.app = this.make();
    return listen((await this.app).server, port, host);
  }

  async close(): Promise<void> {
    const app = await this.app?.catch(() => undefined);
    if (app) await app.close();
  }
}

/**
 * Resolves with the signal's name on the first SIGINT or SIGTERM (for a role's clean shutdown:
 * store closed, sockets closed). The listeners are removed once it fires.
 */
export function shutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
