/**
 * The front role: serves the dashboard's built files and the API under `/api`, on the same
 * Fastify server as every role (src/api/server.ts: one gate for every request). The API is either
 * proxied to a hub URL (@fastify/reply-from: HTTP streamed both ways, any method; WebSocket
 * upgrades tunnelled at the byte level, so the hub's own answer to an upgrade — 101, 404 — reaches
 * the client as it was) or, when the hub runs in this process, served from its route table
 * directly.
 *
 * Files: exact paths with their content type; hashed build outputs cached for a year, everything
 * else revalidated; unknown paths without an extension get index.html (the dashboard routes them
 * itself). The build uses relative asset URLs (`./assets/…`), so a deep link's
 * `/a/b/assets/x.js` is served as `assets/x.js`.
 */
import {
  request as httpRequest,
  ServerResponse,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import replyFrom from '@fastify/reply-from';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccessPolicy } from '../api/origin.ts';
import {
  RoleServer,
  UPGRADE_ROUTE,
  createHttpServer,
  sendJson,
  serveApi,
  type NodeApi,
} from '../api/server.ts';
import { KsError } from '../util/errors.ts';
import { loadAssets, type Assets } from './assets.ts';

/** Time the hub may take to start answering a proxied request (and to send more of it). */
export const FRONT_PROXY_TIMEOUT_MS = 60_000;

/** Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** `/api` and everything under it. */
const API_PREFIX = '/api';

export interface FrontOptions {
  /** The hub: its URL (`http://127.0.0.1:8898`), or an in-process hub's API. */
  hub: string | NodeApi;
  /** The dashboard's files (default `loadAssets()`). */
  assets?: Assets;
  /** Hosts and proxies the gate accepts (default: loopback and IP literals only). */
  access?: AccessPolicy;
}

export interface Front {
  readonly assets: Assets;
  listen(port?: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * Request headers the front's gate has checked (src/api/origin.ts) and does not pass on: the
 * hub is reached under another host, where the browser's Origin would not match.
 */
const CHECKED_HERE = new Set(['origin', 'sec-fetch-site']);

/** A request's headers for the hub: without what the front's own gate has already checked. */
function toHub(h: IncomingHttpHeaders, keepUpgrade: boolean): OutgoingHttpHeaders {
  const out = forwardHeaders(h, keepUpgrade);
  for (const k of CHECKED_HERE) delete out[k];
  return out;
}

function forwardHeaders(
  h: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
  keepUpgrade: boolean,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const listed = new Set(
    String(h.connection ?? '')
      .toLowerCase()
      .split(',')
      .map((s) => s.trim()),
  );
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    if (!keepUpgrade && (HOP_BY_HOP.has(k) || listed.has(k))) continue;
    out[k] = v;
  }
  return out;
}

const NOT_BUILT = (where: string): string => `<!doctype html>
<html><head><meta charset="utf-8"><title>Kubeshark: dashboard not built</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>The dashboard is not built</h1>
<p>This server has no dashboard files (looked in <code>${where.replace(/[<>&]/g, '')}</code>).
Run <code>npm run build</code> in the repository, then start it again. The API under
<a href="api/health"><code>/api</code></a> works without them.</p>
</body></html>
`;

export function createFront(opts: FrontOptions): Front {
  return new FrontImpl(opts);
}

/** An upgrade request's socket and first bytes, kept until its route takes them. */
interface Upgrade {
  socket: Duplex;
  head: Buffer;
}

class FrontImpl implements Front {
  readonly assets: Assets;
  private readonly target: URL | undefined;
  private readonly api: NodeApi | undefined;
  private readonly access: AccessPolicy | undefined;
  private readonly server = new RoleServer('front', () => this.app());
  /** Upgrade requests routed through Fastify, by request (remote hub only). */
  private readonly upgrades = new WeakMap<IncomingMessage, Upgrade>();
  /** Upgraded connections piped to the hub (closed with the front). */
  private readonly tunnels = new Set<Duplex>();

  constructor(opts: FrontOptions) {
    this.assets = opts.assets ?? loadAssets();
    this.access = opts.access;
    if (typeof opts.hub === 'string') {
      let url: URL;
      try {
        url = new URL(opts.hub);
      } catch {
        throw new KsError('KS_ERR_USAGE', `not a hub URL: ${opts.hub}`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new KsError('KS_ERR_USAGE', `hub URL must be http(s): ${opts.hub}`);
      }
      this.target = url;
    } else {
      this.api = opts.hub;
    }
  }

  private async app(): Promise<FastifyInstance> {
    const app = createHttpServer('front', this.access);
    if (this.api) {
      // The hub in this process: its route table, served here.
      await serveApi(app, this.api, { all: false });
    } else {
      await this.proxyRoutes(app);
    }
    app.all('/*', (req, reply) => this.serveFile(req, reply));
    app.addHook('preClose', (done) => {
      for (const s of this.tunnels) s.destroy();
      this.tunnels.clear();
      done();
    });
    await app.ready();
    return app;
  }

  // ---------------------------------------------------------------- files

  private serveFile(req: FastifyRequest, reply: FastifyReply): FastifyReply {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      return reply.code(405).header('allow', 'GET, HEAD').send();
    }
    if (this.assets.kind === 'none') {
      const body = NOT_BUILT(this.assets.where);
      return reply
        .code(503)
        .headers({
          'content-type': 'text/html; charset=utf-8',
          'content-length': Buffer.byteLength(body),
          'cache-control': 'no-store',
        })
        .send(head ? undefined : body);
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '');
    } catch {
      return reply.code(400).send();
    }
    const found = this.resolve(path);
    if (found === undefined) {
      return reply
        .code(404)
        .headers({ 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
        .send(head ? undefined : `not found: /${path}\n`);
    }
    const a = this.assets.get(found);
    if (a === undefined) return reply.code(404).send();
    return reply
      .code(200)
      .headers({
        'content-type': a.type,
        'content-length': a.body.length,
        'cache-control': a.hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
        'x-content-type-options': 'nosniff',
      })
      .send(head ? undefined : a.body);
  }

  /** The asset answering `path`: itself, a deep link's `…/assets/x`, or index.html (SPA). */
  private resolve(path: string): string | undefined {
    const paths = this.assets.paths;
    if (path === '' || path.endsWith('/')) {
      const index = path + 'index.html';
      return paths.has(index) ? index : 'index.html';
    }
    if (paths.has(path)) return path;
    const i = path.lastIndexOf('/assets/');
    if (i >= 0 && paths.has(path.slice(i + 1))) return path.slice(i + 1);
    const last = path.slice(path.lastIndexOf('/') + 1);
    // A file that is not there is a 404; a route of the dashboard gets the app.
    if (/\.[A-Za-z0-9]+$/.test(last)) return undefined;
    return paths.has('index.html') ? 'index.html' : undefined;
  }

  // ---------------------------------------------------------------- proxy

  /** `/api` and below, to the hub: HTTP through reply-from, upgrades through a byte tunnel. */
  private async proxyRoutes(app: FastifyInstance): Promise<void> {
    const origin = this.target!.origin;
    await app.register(replyFrom, {
      base: origin,
      disableRequestLogging: true,
      undici: { headersTimeout: FRONT_PROXY_TIMEOUT_MS, bodyTimeout: FRONT_PROXY_TIMEOUT_MS },
    });
    // Upgrades go through Fastify's routing (and so through the gate) like any request; the
    // route that takes them (below) gets the socket.
    app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      this.upgrades.set(req, { socket, head });
      const res = new ServerResponse(req);
      res.assignSocket(socket as never);
      // Answered over HTTP (refused): nothing more happens on this socket.
      res.on('finish', () => socket.destroy());
      app.routing(req, res);
    });
    const proxy = (req: FastifyRequest, reply: FastifyReply): FastifyReply | undefined => {
      const up = this.upgrades.get(req.raw);
      if (up !== undefined) {
        this.upgrades.delete(req.raw);
        reply.hijack();
        this.proxyUpgrade(req.raw, up.socket, up.head);
        return undefined;
      }
      return reply.from(req.url, {
        // A hub's 503 is an answer (no worker reachable), not a reason to ask again.
        retryDelay: () => null,
        rewriteRequestHeaders: (r, headers) =>
          ({
            ...toHub(headers, false),
            host: this.target!.host,
            'x-forwarded-for': r.raw.socket.remoteAddress ?? '',
            'x-forwarded-host': r.headers.host ?? '',
            'x-forwarded-proto': 'http',
          }) as IncomingHttpHeaders,
        rewriteHeaders: (headers) => forwardHeaders(headers, false) as IncomingHttpHeaders,
        onError: (r, { error }) => {
          const cause = (error as { cause?: unknown }).cause;
          const why = cause instanceof Error ? cause.message : error.message;
          void sendJson(r as unknown as FastifyReply, 502, {
            error: {
              code: 'KS_ERR_UNAVAILABLE',
              message: `cannot reach the hub at ${origin}: ${why}`,
            },
          });
        },
      });
    };
    app.all(API_PREFIX, { config: UPGRADE_ROUTE }, proxy);
    app.all(`${API_PREFIX}/*`, { config: UPGRADE_ROUTE }, proxy);
  }

  private upstream(): { request: typeof httpRequest; host: string; port: number } {
    const t = this.target!;
    const tls = t.protocol === 'https:';
    return {
      request: tls ? httpsRequest : httpRequest,
      host: t.hostname,
      port: Number(t.port) || (tls ? 443 : 80),
    };
  }

  private proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const u = this.upstream();
    const headers = toHub(req.headers, true);
    headers.host = this.target!.host;
    const up = u.request({
      host: u.host,
      port: u.port,
      method: req.method,
      path: req.url,
      headers,
    });
    up.on('upgrade', (ures, usock, uhead) => {
      let text = `HTTP/1.1 ${ures.statusCode ?? 101} ${ures.statusMessage ?? 'Switching Protocols'}\r\n`;
      const raw = ures.rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2) text += `${raw[i]}: ${raw[i + 1]}\r\n`;
      socket.write(text + '\r\n');
      if (uhead.length > 0) socket.write(uhead);
      if (head.length > 0) usock.write(head);
      this.tunnels.add(socket);
      const end = (): void => {
        this.tunnels.delete(socket);
        socket.destroy();
        usock.destroy();
      };
      usock.on('error', end);
      socket.on('error', end);
      usock.on('close', end);
      socket.on('close', end);
      usock.pipe(socket);
      socket.pipe(usock);
    });
    up.on('response', (ures) => {
      // The hub refused the upgrade: pass its answer on, then close.
      let text = `HTTP/1.1 ${ures.statusCode ?? 502} ${ures.statusMessage ?? ''}\r\nconnection: close\r\n`;
      for (const [k, v] of Object.entries(forwardHeaders(ures.headers, false))) {
        text += `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}\r\n`;
      }
      socket.write(text + '\r\n');
      ures.pipe(socket);
    });
    up.on('error', (err) => {
      const body = JSON.stringify({
        error: { code: 'KS_ERR_UNAVAILABLE', message: `cannot reach the hub: ${err.message}` },
      });
      socket.end(
        `HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
    up.end();
  }

  // ---------------------------------------------------------------- serving

  async listen(port = 0, host?: string): Promise<number> {
    return this.server.listen(port, host);
  }

  async close(): Promise<void> {
    await this.server.close();
  }
}

export interface RunFrontOptions {
  hub: string;
  port: number;
  host?: string;
  /** Dashboard directory instead of the embedded / built one. */
  assetsDir?: string;
  /** Hosts and proxies the gate accepts (`accessPolicyOf(config)`). */
  access?: AccessPolicy;
  out: (line: string) => void;
  log: (line: string) => void;
  until: Promise<unknown>;
}

/** `kubeshark front` (hidden): the dashboard and `/api` proxied to the hub, until a signal. */
export async function runFront(o: RunFrontOptions): Promise<void> {
  const front = createFront({
    hub: o.hub,
    assets: loadAssets(o.assetsDir !== undefined ? { dir: o.assetsDir } : {}),
    ...(o.access && { access: o.access }),
  });
  if (front.assets.kind === 'none') {
    o.log(`kubeshark front: no dashboard files in ${front.assets.where}; run \`npm run build\``);
  }
  try {
    const port = await front.listen(o.port, o.host);
    const where = `http://${o.host && o.host !== '0.0.0.0' ? o.host : '127.0.0.1'}:${port}`;
    o.out(`kubeshark front: listening on ${where} (API proxied to ${o.hub})`);
    await o.until;
  } finally {
    await front.close();
  }
}
