/**
 * HTTP plumbing shared by the worker and the hub: a JSON route dispatcher over node:http, the
 * WebSocket upgrade for `/api/stream`, listen/close. The roles implement `NodeApi`; this file
 * turns it into a server (and the hub calls an in-process worker's `NodeApi` directly).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { KsError } from '../util/errors.ts';
import { errorOf } from './errors.ts';
import { paramsOf } from './params.ts';
import { STREAM_MAX_CLIENT_MESSAGE_BYTES } from './stream.ts';
import { ROUTES, type Params } from './types.ts';

/** What a role serves: JSON routes and the live stream. */
export interface NodeApi {
  /** Answers a GET route (path without query string) or throws (KsError → status). */
  call(path: string, params: Params): Promise<unknown>;
  /** A WebSocket client connected to `/api/stream` with these parameters. */
  stream(ws: WebSocket, params: Params): void;
  /**
   * Routes that need the whole request (any method, a body, a streamed answer), e.g. the hub's
   * `/api/mcp`: answers and returns true, or returns false to leave it to the JSON routes.
   */
  http?(req: IncomingMessage, res: ServerResponse): boolean;
}

function send(res: ServerResponse, status: number, body: unknown, head: boolean): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(head ? undefined : text);
}

/** Answers one HTTP request with `api` (GET/HEAD JSON routes; other methods 405). */
export function handleApiRequest(api: NodeApi, req: IncomingMessage, res: ServerResponse): void {
  if (api.http?.(req, res)) return;
  const url = new URL(req.url ?? '/', 'http://localhost');
  const head = req.method === 'HEAD';
  if (req.method !== 'GET' && !head) {
    res.setHeader('allow', 'GET, HEAD');
    send(res, 405, { error: { code: 'KS_ERR_USAGE', message: `${req.method} not allowed` } }, head);
    return;
  }
  api.call(url.pathname, paramsOf(url.searchParams)).then(
    (body) => send(res, 200, body, head),
    (err: unknown) => {
      const { status, body } = errorOf(err);
      send(res, status, body, head);
    },
  );
}

/** A WebSocket server for `/api/stream` upgrades (attach with `handleApiUpgrade`). */
export function createStreamServer(): WebSocketServer {
  return new WebSocketServer({ noServer: true, maxPayload: STREAM_MAX_CLIENT_MESSAGE_BYTES });
}

/** Completes an upgrade to `/api/stream` with `api`; other paths get 404. */
export function handleApiUpgrade(
  api: NodeApi,
  wss: WebSocketServer,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname !== ROUTES.stream) {
    socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => api.stream(ws, paramsOf(url.searchParams)));
}

/** A node:http server answering `api`'s routes (GET/HEAD) and its stream (WebSocket). */
export function createApiServer(api: NodeApi): { server: Server; wss: WebSocketServer } {
  const server = createServer((req, res) => handleApiRequest(api, req, res));
  // Keep-alive sockets must not hold a closing server open for long.
  server.keepAliveTimeout = 5000;
  const wss = createStreamServer();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    handleApiUpgrade(api, wss, req, socket, head),
  );
  return { server, wss };
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

/** Closes the server, its WebSocket clients and every open connection. */
export async function closeServer(server: Server, wss?: WebSocketServer): Promise<void> {
  if (wss) {
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  }
  if (!server.listening) return;
  const closed = new Promise<void>((r) => server.close(() => r()));
  server.closeAllConnections();
  await closed;
}

/** The unknown-route error. */
export function notFound(path: string): KsError {
  return new KsError('KS_ERR_NOT_FOUND', `no such route: ${path}`);
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
