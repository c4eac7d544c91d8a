/**
 * The front role: serves the dashboard's built files and the API under `/api`. The API is either
 * proxied to a hub URL (HTTP streamed both ways, any method, and WebSocket upgrades piped through
 * at the byte level) or, when the hub runs in this process, answered by its NodeApi directly.
 *
 * Files: exact paths with their content type; hashed build outputs cached for a year, everything
 * else revalidated; unknown paths without an extension get index.html (the dashboard routes them
 * itself). The build uses relative asset URLs (`./assets/…`), so a deep link's
 * `/a/b/assets/x.js` is served as `assets/x.js`.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import {
  closeServer,
  createStreamServer,
  handleApiRequest,
  handleApiUpgrade,
  listen,
  type NodeApi,
} from '../api/server.ts';
import { KsError } from '../util/errors.ts';
import { loadAssets, type Assets } from './assets.ts';

/** Time the hub may take to start answering a proxied request. */
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

export interface FrontOptions {
  /** The hub: its URL (`http://127.0.0.1:8898`), or an in-process hub's API. */
  hub: string | NodeApi;
  /** The dashboard's files (default `loadAssets()`). */
  assets?: Assets;
}

export interface Front {
  readonly assets: Assets;
  listen(port?: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

function forwardHeaders(h: IncomingHttpHeaders, keepUpgrade: boolean): OutgoingHttpHeaders {
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

function sendJsonError(res: ServerResponse, status: number, code: string, message: string): void {
  const text = JSON.stringify({ error: { code, message } });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
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

class FrontImpl implements Front {
  readonly assets: Assets;
  private readonly target: URL | undefined;
  private readonly api: NodeApi | undefined;
  private readonly wss: WebSocketServer | undefined;
  private server: Server | undefined;
  /** Upgraded connections piped to the hub (closed with the front). */
  private readonly tunnels = new Set<Duplex>();

  constructor(opts: FrontOptions) {
    this.assets = opts.assets ?? loadAssets();
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
      this.wss = createStreamServer();
    }
  }

  private isApi(url: string): boolean {
    return url === '/api' || url.startsWith('/api/') || url.startsWith('/api?');
  }

  private onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    if (this.isApi(url)) {
      if (this.api) handleApiRequest(this.api, req, res);
      else this.proxy(req, res);
      return;
    }
    this.serveFile(req, res);
  };

  private onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    if (!this.isApi(req.url ?? '/')) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    if (this.api) handleApiUpgrade(this.api, this.wss!, req, socket, head);
    else this.proxyUpgrade(req, socket, head);
  };

  // ---------------------------------------------------------------- files

  private serveFile(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-length': 0 });
      res.end();
      return;
    }
    if (this.assets.kind === 'none') {
      const body = NOT_BUILT(this.assets.where);
      res.writeHead(503, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'cache-control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
    } catch {
      res.writeHead(400, { 'content-length': 0 });
      res.end();
      return;
    }
    const found = this.resolve(path);
    if (found === undefined) {
      res.writeHead(404, {
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : `not found: /${path}\n`);
      return;
    }
    const a = this.assets.get(found);
    if (a === undefined) {
      res.writeHead(404, { 'content-length': 0 });
      res.end();
      return;
    }
    res.writeHead(200, {
      'content-type': a.type,
      'content-length': a.body.length,
      'cache-control': a.hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : a.body);
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

  private upstream(): { request: typeof httpRequest; host: string; port: number } {
    const t = this.target!;
    const tls = t.protocol === 'https:';
    return {
      request: tls ? httpsRequest : httpRequest,
      host: t.hostname,
      port: Number(t.port) || (tls ? 443 : 80),
    };
  }

  private proxy(req: IncomingMessage, res: ServerResponse): void {
    const u = this.upstream();
    const headers = forwardHeaders(req.headers, false);
    headers.host = this.target!.host;
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
    headers['x-forwarded-host'] = req.headers.host ?? '';
    headers['x-forwarded-proto'] = 'http';
    const up = u.request(
      {
        host: u.host,
        port: u.port,
        method: req.method,
        path: req.url,
        headers,
        timeout: FRONT_PROXY_TIMEOUT_MS,
      },
      (ures) => {
        res.writeHead(ures.statusCode ?? 502, forwardHeaders(ures.headers, false));
        ures.pipe(res);
        ures.on('error', () => res.destroy());
      },
    );
    up.on('timeout', () => up.destroy(new Error(`no answer within ${FRONT_PROXY_TIMEOUT_MS} ms`)));
    up.on('error', (err) => {
      if (!res.headersSent) {
        sendJsonError(
          res,
          502,
          'KS_ERR_UNAVAILABLE',
          `cannot reach the hub at ${this.target!.origin}: ${err.message}`,
        );
      } else res.destroy();
    });
    // The client went away: stop the hub's work too.
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  }

  private proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const u = this.upstream();
    const headers = forwardHeaders(req.headers, true);
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
    if (this.server) throw new Error('front is already listening');
    const server = createServer(this.onRequest);
    server.keepAliveTimeout = 5000;
    server.on('upgrade', this.onUpgrade);
    this.server = server;
    return listen(server, port, host);
  }

  async close(): Promise<void> {
    for (const s of this.tunnels) s.destroy();
    this.tunnels.clear();
    if (this.server) await closeServer(this.server, this.wss);
  }
}

export interface RunFrontOptions {
  hub: string;
  port: number;
  host?: string;
  /** Dashboard directory instead of the embedded / built one. */
  assetsDir?: string;
  out: (line: string) => void;
  log: (line: string) => void;
  until: Promise<unknown>;
}

/** `kubeshark front` (hidden): the dashboard and `/api` proxied to the hub, until a signal. */
export async function runFront(o: RunFrontOptions): Promise<void> {
  const front = createFront({
    hub: o.hub,
    assets: loadAssets(o.assetsDir !== undefined ? { dir: o.assetsDir } : {}),
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
