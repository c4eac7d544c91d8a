/**
 * WebSocket captures: a real `ws` server on 127.0.0.1:8080 (HTTP Upgrade on a port tshark
 * dissects as HTTP, so it follows into WebSocket) and a real `ws` client.
 *
 *   node --import tsx scripts/capture/ws.ts [case...]     (inside scripts/capture/in-netns.sh)
 */
import { once } from 'node:events';
import { WebSocket, WebSocketServer } from 'ws';
import type { PerMessageDeflateOptions, RawData } from 'ws';
import { capture, runCases, sleep } from './lib.ts';

const PORT = 8080;
const HOST = '127.0.0.1';
const FILTER = `tcp port ${PORT}`;
/** Between client actions: keeps the frame order on the wire the order of the script. */
const STEP_MS = 20;

/**
 * An echo server (it also greets the client first), a client on `/chat?room=1`, and `script`
 * run once the client is open. The client closes with 4000 "bye" at the end.
 */
async function session(
  deflate: PerMessageDeflateOptions | false,
  script: (ws: WebSocket) => Promise<void>,
): Promise<void> {
  const wss = new WebSocketServer({ host: HOST, port: PORT, perMessageDeflate: deflate });
  await once(wss, 'listening');
  wss.on('connection', (peer) => {
    peer.send('welcome');
    peer.on('message', (data: RawData, isBinary: boolean) => peer.send(data, { binary: isBinary }));
  });
  try {
    const ws = new WebSocket(`ws://${HOST}:${PORT}/chat?room=1`, { perMessageDeflate: deflate });
    await once(ws, 'open');
    await sleep(STEP_MS);
    await script(ws);
    ws.close(4000, 'bye');
    await once(ws, 'close');
  } finally {
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
}

/** Text, binary, a message in three fragments, ping/pong, a server message, close with a code. */
async function websocket(): Promise<void> {
  await session(false, async (ws) => {
    ws.send('hello server');
    await sleep(STEP_MS);
    ws.send(Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
    await sleep(STEP_MS);
    ws.send('fragment one, ', { fin: false });
    ws.send('fragment two, ', { fin: false });
    ws.send('fragment three', { fin: true });
    await sleep(STEP_MS);
    ws.ping('are you there');
    await once(ws, 'pong');
    await sleep(STEP_MS);
  });
}

/** permessage-deflate on both sides (context takeover kept), including a fragmented message. */
async function websocketDeflate(): Promise<void> {
  const doc = JSON.stringify({
    rows: Array.from({ length: 80 }, (_, i) => ({ id: i, status: 'ok', region: 'eu-west-1' })),
  });
  await session({ threshold: 0 }, async (ws) => {
    ws.send('hello hello hello hello compressed server');
    await sleep(STEP_MS);
    ws.send(doc);
    await sleep(STEP_MS);
    ws.send(doc); // same text again: the shared window makes it tiny
    await sleep(STEP_MS);
    ws.send(Buffer.alloc(512, 7));
    await sleep(STEP_MS);
    ws.send('compressed fragment one, ', { fin: false });
    ws.send('compressed fragment two', { fin: true });
    await sleep(STEP_MS);
  });
}

await runCases({
  websocket: () => capture('ws', 'websocket', FILTER, websocket),
  'websocket-deflate': () => capture('ws', 'websocket-deflate', FILTER, websocketDeflate),
});
