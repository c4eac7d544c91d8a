/** Test helpers: real `ws` conversations recorded through the tee proxy (imported by tests only). */
import type net from 'node:net';
import { WebSocket, WebSocketServer, type ClientOptions, type ServerOptions } from 'ws';
import { startTeeProxy, type Chunk } from './dissector-session.ts';

/**
 * A real `ws` echo server and client talking through the tee proxy: the client runs `script`,
 * then closes with 4000 "done". Returns the recorded bytes of the connection.
 */
export async function recordWs(
  serverOpts: ServerOptions,
  clientOpts: ClientOptions,
  script: (ws: WebSocket) => Promise<void>,
): Promise<Chunk[]> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...serverOpts });
  await new Promise<void>((r) => wss.on('listening', r));
  wss.on('connection', (sock) => {
    sock.on('message', (data, isBinary) => sock.send(data, { binary: isBinary }));
    sock.on('error', () => {});
  });
  const proxy = await startTeeProxy((wss.address() as net.AddressInfo).port);
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/chat?room=7`, clientOpts);
    ws.on('error', () => {});
    const closed = new Promise((r) => ws.on('close', r));
    await new Promise((r) => ws.on('open', r));
    await script(ws);
    if (ws.readyState === WebSocket.OPEN) ws.close(4000, 'done');
    await closed;
  } finally {
    await proxy.close();
    await new Promise((r) => wss.close(r));
  }
  return proxy.connections[0]!;
}

/** Sends, then waits until `n` echoes came back. */
export function sendAll(ws: WebSocket, n: number, send: () => void): Promise<void> {
  return new Promise((resolve) => {
    let got = 0;
    ws.on('message', () => {
      if (++got === n) resolve();
    });
    send();
  });
}
