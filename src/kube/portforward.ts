/**
 * The local proxy to the front: a TCP server on tap.proxy.host:tap.proxy.front.port whose every
 * connection is tunnelled through the API server's pods/portforward (WebSocket, client-node's
 * PortForward) to a ready front pod's srvPort.
 *
 * The target pod is resolved lazily and re-resolved when a connection cannot be opened (the pod
 * was replaced, deleted, or stopped listening), so the same local port keeps working across
 * front restarts. Independent of the CLI: `tap`, `proxy`, `check` and `kubeshark mcp` use it.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { CoreV1Api, PortForward, type KubeConfig } from '@kubernetes/client-node';
import { componentSelector } from './apply.ts';
import { errorText, kubeError, statusCode } from './config.ts';
import { isPodReady } from './ready.ts';
import { KsError } from '../util/errors.ts';

/** How long a new connection waits for a ready front pod (e.g. while one replaces another). */
export const PROXY_RESOLVE_TIMEOUT_MS = 60_000;
/** Pause between two looks for a ready front pod. */
export const PROXY_RESOLVE_POLL_MS = 250;
/** Attempts per connection to open the tunnel (each after re-resolving the pod). */
export const PROXY_CONNECT_ATTEMPTS = 3;

export interface FrontProxyOptions {
  kc: KubeConfig;
  /** tap.release.namespace */
  namespace: string;
  /** tap.release.name */
  release: string;
  /** tap.proxy.host */
  host: string;
  /** tap.proxy.front.port; 0: any free port. */
  port: number;
  /**
   * tap.proxy.front.srvPort: the port the front container listens on when its pod does not say
   * (the pod's `http` container port wins: the release may run with another config than ours).
   */
  srvPort: number;
  /** Default PROXY_RESOLVE_TIMEOUT_MS. */
  resolveTimeoutMs?: number;
}

export interface FrontProxyEvents {
  /** A front pod was chosen as the target (first time and after each replacement). */
  target: [pod: string];
  /** A connection could not be tunnelled (it was closed). */
  error: [err: KsError];
}

export interface FrontProxy {
  /** http://host:port of the local end. */
  url: string;
  port: number;
  /** The current target pod (undefined until the first connection). */
  readonly target: string | undefined;
  /**
   * Finds a ready front pod now, waiting up to `timeoutMs` (default: the proxy's resolve
   * timeout); fails clearly when the release is not there or not ready.
   */
  resolve(timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
  events: EventEmitter<FrontProxyEvents>;
}

/** The URL host for a listen address (a browser on this machine uses it). */
function urlHostOf(host: string): string {
  if (host === '' || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts listening and resolves once the port is bound. A taken port fails with KS_ERR_LISTEN
 * saying which; the release need not be ready yet (connections wait for a ready front pod).
 */
export async function startFrontProxy(o: FrontProxyOptions): Promise<FrontProxy> {
  const core = o.kc.makeApiClient(CoreV1Api);
  const pf = new PortForward(o.kc);
  const events = new EventEmitter<FrontProxyEvents>();
  // An 'error' event without a listener would throw: errors are informational here.
  events.on('error', () => undefined);
  const server: Server = createServer({ pauseOnConnect: true });
  const sockets = new Set<Socket>();
  const selector = componentSelector(o.release, 'front');
  const where = `${o.namespace}/${o.release}-front`;
  const apiServer = o.kc.getCurrentCluster()?.server;
  let target: string | undefined;
  /** The chosen pod's front port. */
  let targetPort = o.srvPort;
  let resolving: Promise<string> | undefined;
  let closed = false;

  /** A ready front pod now, or undefined. */
  const findReady = async (): Promise<{ name: string; port: number } | undefined> => {
    let pods;
    try {
      pods = await core.listNamespacedPod({ namespace: o.namespace, labelSelector: selector });
    } catch (e) {
      throw kubeError(e, `listing the front pods of ${where}`, apiServer);
    }
    const ready = pods.items.filter(isPodReady);
    // Newest first: after a rollout the old pod may still be terminating.
    ready.sort(
      (a, b) =>
        new Date(b.metadata?.creationTimestamp ?? 0).getTime() -
        new Date(a.metadata?.creationTimestamp ?? 0).getTime(),
    );
    const pod = ready[0];
    if (!pod?.metadata?.name) return undefined;
    const declared = pod.spec?.containers
      .find((c) => c.name === 'front')
      ?.ports?.find((p) => p.name === 'http')?.containerPort;
    return { name: pod.metadata.name, port: declared ?? o.srvPort };
  };

  /** Waits (bounded) for a ready front pod; one lookup shared by concurrent connections. */
  const resolveTarget = (timeoutMs?: number): Promise<string> => {
    resolving ??= (async () => {
      const deadline = Date.now() + (timeoutMs ?? o.resolveTimeoutMs ?? PROXY_RESOLVE_TIMEOUT_MS);
      for (;;) {
        const found = await findReady();
        if (found) {
          const { name } = found;
          targetPort = found.port;
          if (name !== target) {
            target = name;
            events.emit('target', name);
          }
          return name;
        }
        if (closed || Date.now() > deadline) {
          throw new KsError(
            'KS_ERR_KUBE_NOT_READY',
            `no ready front pod for ${where} (is it deployed? kubeshark tap deploys it; kubeshark check says more)`,
          );
        }
        await new Promise((r) => setTimeout(r, PROXY_RESOLVE_POLL_MS));
      }
    })().finally(() => {
      resolving = undefined;
    });
    return resolving;
  };

  const tunnel = async (sock: Socket): Promise<void> => {
    let lastErr: unknown;
    for (let attempt = 0; attempt < PROXY_CONNECT_ATTEMPTS && !closed; attempt++) {
      const pod = target ?? (await resolveTarget());
      try {
        // The socket is still paused: nothing is read until the tunnel is open, so a failed
        // attempt loses no bytes and the next one starts clean.
        // The error channel: the pod refused the port (not listening, restarting…). This
        // connection is lost; the next one looks for a pod again.
        const errors = new Writable({
          write(chunk: Buffer, _enc, done) {
            // The channel's first frame is only its port number (client-node strips it, leaving
            // an empty chunk): not an error.
            const text = chunk.toString().trim();
            if (text === '') return done();
            if (target === pod) target = undefined;
            events.emit('error', new KsError('KS_ERR_UNAVAILABLE', `front pod ${pod}: ${text}`));
            done();
          },
        });
        const ws = (await pf.portForward(o.namespace, pod, [targetPort], sock, errors, sock)) as {
          once(ev: 'close', fn: () => void): void;
          close(): void;
        };
        ws.once('close', () => sock.end());
        sock.once('close', () => ws.close());
        sock.resume();
        return;
      } catch (e) {
        lastErr = e;
        // Refused for lack of permission: retrying cannot help.
        if (/Unexpected server response: 403/.test(errorText(e))) break;
        // The pod is gone or refused: look for the current one.
        if (target === pod) target = undefined;
        if (statusCode(e) !== 404 && !/Unexpected server response/.test(errorText(e))) {
          await new Promise((r) => setTimeout(r, PROXY_RESOLVE_POLL_MS));
        }
      }
    }
    const refused = /Unexpected server response: (\d+)/.exec(errorText(lastErr));
    if (refused) {
      const code = Number(refused[1]);
      const why =
        code === 403
          ? '403 Forbidden (it needs permission to create pods/portforward in ' + o.namespace + ')'
          : code === 404
            ? '404 NotFound (the pod is gone)'
            : String(code);
      throw new KsError(
        'KS_ERR_KUBE_API',
        `port-forward to ${where}:${targetPort}: the API server refused: ${why}`,
        { cause: lastErr },
      );
    }
    throw kubeError(lastErr, `port-forward to ${where}:${targetPort}`, apiServer);
  };

  server.on('connection', (sock: Socket) => {
    if (closed) return sock.destroy();
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    tunnel(sock).catch((e: unknown) => {
      events.emit('error', e instanceof KsError ? e : kubeError(e, 'port-forward', apiServer));
      sock.destroy();
    });
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'EADDRINUSE'
          ? `the port is in use (another kubeshark tap/proxy? choose one with --set tap.proxy.front.port=N)`
          : err.code === 'EACCES'
            ? 'permission denied'
            : err.message;
      reject(
        new KsError('KS_ERR_LISTEN', `cannot listen on ${o.host}:${o.port}: ${why}`, {
          cause: err,
        }),
      );
    });
    server.listen(o.port, o.host, () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : o.port);
    });
  });
  server.on('error', (err) => events.emit('error', new KsError('KS_ERR_LISTEN', err.message)));

  return {
    url: `http://${urlHostOf(o.host)}:${port}`,
    port,
    get target() {
      return target;
    },
    resolve: (timeoutMs) => resolveTarget(timeoutMs),
    async close() {
      if (closed) return;
      closed = true;
      const done = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await done;
    },
    events,
  };
}
