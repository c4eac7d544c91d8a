/**
 * The worker's live stream: every stored entry is offered to each subscriber, which runs its own
 * compiled KFL filter; a match is serialised once per view (shared by every subscriber wanting
 * that view) and handed to the subscriber's sink — a bounded WebSocket queue (StreamPeer) or, for
 * an in-process hub, the hub's own bounded queue.
 */
import type { WebSocket } from 'ws';
import type { KflCompiler } from '../api/kfl.ts';
import { kflInfo } from '../api/kfl.ts';
import { errorOf } from '../api/errors.ts';
import { parseStreamQuery } from '../api/params.ts';
import {
  STREAM_CLOSE_BAD_FILTER,
  StreamPeer,
  parseClientMessage,
  type PeerStats,
} from '../api/stream.ts';
import { summarize } from '../api/summary.ts';
import type { EntryView, KflInfo, Params, StreamMessage } from '../api/types.ts';
import type { Entry } from '../entry/model.ts';
import type { ViewBuilder } from '../entry/view.ts';
import type { CompiledFilter } from '../query/index.ts';

/** An in-process subscription (the hub's, for a worker in the same process). */
export interface Subscription {
  /** Replaces the filter (throws KflError when it does not compile; the old one stays). */
  setFilter(q: string): KflInfo;
  pause(): void;
  resume(): void;
  close(): void;
  readonly kfl: KflInfo;
}

interface Subscriber {
  filter: CompiledFilter;
  view: EntryView;
  paused: boolean;
  /** Gets the `entry` message's JSON text. */
  push(text: string): void;
}

export class Broadcaster {
  private readonly subs = new Set<Subscriber>();
  private readonly peers = new Set<StreamPeer>();

  constructor(
    private readonly compiler: KflCompiler,
    private readonly view: ViewBuilder,
    private readonly hello: (kfl: KflInfo) => StreamMessage,
    private readonly onDrop: (n: number) => void,
  ) {}

  get size(): number {
    return this.subs.size;
  }

  /** Offers a stored entry to every subscriber. */
  publish(e: Entry): void {
    if (this.subs.size === 0) return;
    let summary: string | undefined;
    let full: string | undefined;
    for (const s of this.subs) {
      if (s.paused || !s.filter.matches(e)) continue;
      if (s.view === 'full') full ??= `{"type":"entry","entry":${this.view.json(e)}}`;
      else summary ??= `{"type":"entry","entry":${JSON.stringify(summarize(e))}}`;
      s.push(s.view === 'full' ? full! : summary!);
    }
  }

  /** A WebSocket client of `/api/stream`. */
  accept(ws: WebSocket, params: Params): void {
    let q: { q: string; view: EntryView };
    let filter: CompiledFilter;
    try {
      q = parseStreamQuery(params);
      filter = this.compiler.compile(q.q);
    } catch (err) {
      const { body } = errorOf(err);
      ws.send(JSON.stringify({ type: 'error', error: body.error } satisfies StreamMessage));
      ws.close(STREAM_CLOSE_BAD_FILTER, body.error.code);
      return;
    }
    const peer = new StreamPeer(ws, this.onDrop);
    const sub: Subscriber = { filter, view: q.view, paused: false, push: (t) => peer.entry(t) };
    this.subs.add(sub);
    this.peers.add(peer);
    peer.control(this.hello(kflInfo(filter)));
    ws.on('message', (data) => {
      const m = parseClientMessage(data);
      if (m === undefined) {
        peer.control({
          type: 'error',
          error: {
            code: 'KS_ERR_USAGE',
            message: 'unknown stream message (expected filter, pause or resume)',
          },
        });
        return;
      }
      if (m.type === 'pause') sub.paused = peer.paused = true;
      else if (m.type === 'resume') sub.paused = peer.paused = false;
      else {
        try {
          sub.filter = this.compiler.compile(m.q);
          peer.control(this.hello(kflInfo(sub.filter)));
        } catch (err) {
          peer.control({ type: 'error', error: errorOf(err).body.error });
        }
      }
    });
    ws.on('close', () => {
      this.subs.delete(sub);
      this.peers.delete(peer);
    });
  }

  /** An in-process subscriber; throws KflError when `q` does not compile. */
  subscribe(q: string, view: EntryView, push: (text: string) => void): Subscription {
    const sub: Subscriber = { filter: this.compiler.compile(q), view, paused: false, push };
    this.subs.add(sub);
    const subs = this.subs;
    const compiler = this.compiler;
    return {
      get kfl() {
        return kflInfo(sub.filter);
      },
      setFilter(filter: string): KflInfo {
        sub.filter = compiler.compile(filter);
        return kflInfo(sub.filter);
      },
      pause: () => void (sub.paused = true),
      resume: () => void (sub.paused = false),
      close: () => void subs.delete(sub),
    };
  }

  /** Sends a message to every WebSocket client (status). */
  each(fn: (peer: StreamPeer) => void): void {
    for (const p of this.peers) fn(p);
  }

  peerStats(): PeerStats[] {
    return [...this.peers].map((p) => p.stats());
  }

  closeAll(): void {
    for (const p of this.peers) p.ws.terminate();
    this.peers.clear();
    this.subs.clear();
  }
}
