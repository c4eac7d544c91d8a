/**
 * The worker's live stream: every stored entry is offered to each subscriber, which runs its own
 * compiled KFL filter; a match is serialised once per view (shared by every subscriber wanting
 * that view) and handed to the subscriber's sink — a bounded WebSocket queue (StreamPeer) or, for
 * an in-process hub, the hub's own bounded queue.
 */
import type { KflCompiler } from '../api/kfl.ts';
import { kflInfo } from '../api/kfl.ts';
import type { StreamPeer, StreamProvider, StreamSession, PeerStats } from '../api/stream.ts';
import { summarize } from '../api/summary.ts';
import type { EntryView, KflInfo } from '../api/types.ts';
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

export class Broadcaster implements StreamProvider {
  readonly role = 'worker';
  private readonly subs = new Set<Subscriber>();
  private readonly peers = new Set<StreamPeer>();

  constructor(
    readonly compiler: KflCompiler,
    private readonly view: ViewBuilder,
    readonly onDrop: (n: number) => void,
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

  /** A WebSocket client of `/api/stream` passed the handshake (src/api/stream.ts). */
  open(peer: StreamPeer, q: { view: EntryView; filter: CompiledFilter }): StreamSession {
    const sub: Subscriber = {
      filter: q.filter,
      view: q.view,
      paused: false,
      push: (t) => peer.entry(t),
    };
    this.subs.add(sub);
    this.peers.add(peer);
    return {
      setFilter: (_q, filter) => void (sub.filter = filter),
      setPaused: (paused) => void (sub.paused = paused),
      close: () => {
        this.subs.delete(sub);
        this.peers.delete(peer);
      },
    };
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
