/**
 * pods/portforward over WebSocket, the channel protocol @kubernetes/client-node speaks
 * (`v4.channel.k8s.io`): every binary message starts with a channel byte; port i uses channel 2i
 * for data and 2i+1 for errors, and the server's first message on each channel is the port number
 * (uint16 little-endian). Pods run on 127.0.0.1, so the target is 127.0.0.1:<port>.
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

function frame(channel: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([channel]), data]);
}

function portHeader(channel: number, port: number): Buffer {
  const b = Buffer.alloc(3);
  b[0] = channel;
  b.writeUInt16LE(port, 1);
  return b;
}

/** Completes the WebSocket upgrade and bridges each requested port to 127.0.0.1:<port>. */
export function webSocketPortForward(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  ports: number[],
): void {
  wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
    const conns: Socket[] = [];
    ports.forEach((port, i) => {
      ws.send(portHeader(2 * i, port));
      ws.send(portHeader(2 * i + 1, port));
      const tcp = connect(port, '127.0.0.1');
      conns[i] = tcp;
      tcp.on('data', (d: Buffer) => {
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
      });
      tcp.on('error', (e) => {
        if (ws.readyState === ws.OPEN) {
          ws.send(
            frame(2 * i + 1, Buffer.from(`error forwarding port ${port} to pod: ${e.message}`)),
          );
          ws.close();
        }
      });
      tcp.on('close', () => {
        if (ws.readyState === ws.OPEN) ws.close();
      });
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
