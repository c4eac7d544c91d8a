/** Shared by the roles tests (test/roles*.test.ts): captures, config, a collecting WS client. */
import { join } from 'node:path';
import { WebSocket } from 'ws';
import type { StreamMessage } from '../../src/api/types.ts';
import { dissectViews as dissect } from './dissect.ts';
import { defaultConfig, setKey, type ConfigTree } from '../../src/config/load.ts';
import { dissectorTestCaptures } from './dissector-captures.ts';

const root = new URL('../..', import.meta.url).pathname;
export const SHOP = join(root, 'demo/shop.pcap');
const caps = dissectorTestCaptures();
/** DNS and WebSocket captures, with the demo. */
export const FILES_A = [SHOP, ...caps.filter((c) => c.proto !== 'http').map((c) => c.file)];
/** The HTTP captures. */
export const FILES_B = caps.filter((c) => c.proto === 'http').map((c) => c.file);

export function configFor(node: string, sets: Record<string, string> = {}): ConfigTree {
  const c = defaultConfig();
  setKey(c, 'node.name', node, 'test', true);
  for (const [k, v] of Object.entries(sets)) setKey(c, k, v, 'test', true);
  return c;
}

/** `kubeshark dissect --l4? -o jsonl -f filter FILES` in-process: the printed views. */
export async function dissectViews(
  files: string[],
  o: { node: string; filter?: string; l4All?: boolean },
): Promise<Record<string, unknown>[]> {
  const r = await dissect(files, {
    sets: [`node.name=${o.node}`],
    ...(o.l4All !== undefined && { l4All: o.l4All }),
    ...(o.filter !== undefined && { filter: o.filter }),
  });
  if (r.error !== undefined) throw r.error;
  return r.views;
}

export async function getJson<T = unknown>(url: string): Promise<{ status: number; body: T }> {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as T };
}

/** A WebSocket client that keeps every message it gets. */
export class Collector {
  readonly ws: WebSocket;
  readonly messages: StreamMessage[] = [];
  closed: { code: number; reason: string } | undefined;
  private readonly opened: Promise<void>;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.ws.on('message', (d) => this.messages.push(JSON.parse(String(d)) as StreamMessage));
    this.ws.on('close', (code, reason) => (this.closed = { code, reason: String(reason) }));
  }

  open(): Promise<void> {
    return this.opened;
  }

  of<T extends StreamMessage['type']>(type: T): Extract<StreamMessage, { type: T }>[] {
    return this.messages.filter((m): m is Extract<StreamMessage, { type: T }> => m.type === type);
  }

  entries(): Record<string, unknown>[] {
    return this.of('entry').map((m) => m.entry as Record<string, unknown>);
  }

  send(m: unknown): void {
    this.ws.send(JSON.stringify(m));
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Polls `cond` until true (or fails after `ms`). */
export async function until(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
