/**
 * pods/portforward over WebSocket, the channel protocol @kubernetes/client-node speaks
 * (`v4.channel.k8s.io`): every binary message starts with a channel byte; port i uses channel 2i
 * for data and 2i+1 for errors, and the server's first message on each channel is the port number
 * (uint16 little-endian). The target is 127.0.0.1:<port> (what the real kubelet dials inside
 * the pod's network namespace), then the pod IP if nothing listens there (see PodConnection).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';

/** Sub-protocols accepted, best first (the channel framing is identical for these). */
export const PORT_FORWARD_PROTOCOLS = ['v4.channel.k8s.io', 'channel.k8s.io'];
/** Pause reading the pod's socket while this much is queued on the WebSocket. */
export const WS_HIGH_WATER_BYTES = 1024 * 1024;

const wss = new WebSocketServer({
  noServer: true,
  handleProtocols: (offered) => PORT_FORWARD_PROTOCOLS.find((p) => offered.has(p)) ?? false,
});

/** Parses `ports=` (repeatable, comma-separated) as the real server does; undefined if invalid. */
export function parsePorts(q: URLSearchParams): number[] | undefined {
  const out: number[] = [];
  for (const v of q.getAll('ports')) {
    for (const p of v.split(',')) {
      const n = Number(p.trim());
      if (!Number.isInteger(n) || n < 1 || n > 65535) return undefined;
      out.push(n);
    }
  }
  return out.length > 0 ? out : undefined;
}

interface PodConnectionHandlers {
  data(b: Buffer): void;
  end(): void;
  error(e: Error): void;
  close(): void;
}

/**
 * A TCP connection to a pod port that tries `hosts` in order, moving on when one refuses: pods
 * share the host's network namespace, so a server bound to its pod IP is not on 127.0.0.1 as it
 * would be in a netns of its own. Writes before the connection is up are queued.
 */
export class PodConnection {
  private sock?: Socket;
  private current?: Socket;
  private pending: Buffer[] = [];
  private ending = false;
  private destroyed = false;

  constructor(
    private readonly port: number,
    private readonly hosts: string[],
    private readonly h: PodConnectionHandlers,
  ) {
    this.attempt(0);
  }

  private attempt(i: number): void {
    const s = connect(this.port, this.hosts[i] ?? '127.0.0.1');
    this.current = s;
    let up = false;
    s.on('connect', () => {
      up = true;
      this.sock = s;
      for (const b of this.pending) s.write(b);
      this.pending = [];
      if (this.ending) s.end();
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (!up && e.code === 'ECONNREFUSED' && i + 1 < this.hosts.length && !this.destroyed) {
        s.destroy();
        this.attempt(i + 1);
        return;
      }
      this.h.error(e);
    });
    s.on('data', (b: Buffer) => this.h.data(b));
    s.on('end', () => this.h.end());
    s.on('close', () => {
      if (this.current === s) this.h.close();
    });
  }

  write(b: Buffer): void {
    if (this.sock) this.sock.write(b);
    else this.pending.push(Buffer.from(b));
  }

  end(): void {
    this.ending = true;
    this.sock?.end();
  }

  destroy(): void {
    this.destroyed = true;
    this.current?.destroy();
  }

  pause(): void {
    this.current?.pause();
  }

  resume(): void {
    this.current?.resume();
  }
}

function frame(channel: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([channel]), data]);
}

function portHeader(channel: number, port: number): Buffer {
  const b = Buffer.alloc(3);
  b[0] = channel;
  b.writeUInt16LE(port, 1);
  return b;
}

/** Completes the WebSocket upgrade and bridges each requested port to the pod (`hosts` in order). */
export function webSocketPortForward(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  ports: number[],
  hosts: string[] = ['127.0.0.1'],
): void {
  wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    const conns: PodConnection[] = [];
    ports.forEach((port, i) => {
      ws.send(portHeader(2 * i, port));
      ws.send(portHeader(2 * i + 1, port));
      const tcp: PodConnection = new PodConnection(port, hosts, {
        data: (d) => {
          ws.send(frame(2 * i, d));
          if (ws.bufferedAmount > WS_HIGH_WATER_BYTES) {
            tcp.pause();
            const resume = setInterval(() => {
              if (ws.bufferedAmount <= WS_HIGH_WATER_BYTES || ws.readyState !== ws.OPEN) {
                clearInterval(resume);
                tcp.resume();
              }
            }, 10);
          }
        },
        end: () => undefined,
        error: (e) => {
          if (ws.readyState === ws.OPEN) {
            ws.send(
              frame(2 * i + 1, Buffer.from(`error forwarding port ${port} to pod: ${e.message}`)),
            );
            ws.close();
          }
        },
        close: () => {
          if (ws.readyState === ws.OPEN) ws.close();
        },
      });
      conns[i] = tcp;
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary || data.length < 1) return;
      const ch = data[0]!;
      if (ch % 2 !== 0) return;
      conns[ch / 2]?.write(data.subarray(1));
    });
    ws.on('close', () => {
      for (const c of conns) c.destroy();
    });
  });
}
