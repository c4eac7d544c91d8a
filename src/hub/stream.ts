/**
 * The hub's live stream: for each client, one upstream stream per worker with the client's
 * filter, fanned in to the client's bounded queue (StreamPeer: the hub drops for a slow client,
 * never buffers without bound; drops the workers report for the hub are passed on). The hub
 * validates filters itself, so a bad filter is answered once, not once per worker. An upstream
 * that closes is reopened with exponential backoff, and at once when its worker comes back up.
 */
import type { WebSocket } from 'ws';
import { errorOf } from '../api/errors.ts';
import { kflInfo, type KflCompiler } from '../api/kfl.ts';
import { parseStreamQuery } from '../api/params.ts';
import {
  STREAM_CLOSE_BAD_FILTER,
  StreamPeer,
  parseClientMessage,
  type PeerStats,
} from '../api/stream.ts';
import type { EntryView, Params, StreamMessage } from '../api/types.ts';
import type { CompiledFilter } from '../query/index.ts';
import { version } from '../util/version.ts';
import { backoffDelay, type LinkTiming, type UpstreamHandle, type WorkerLink } from './link.ts';

class Upstream {
  private handle: UpstreamHandle | undefined;
  private open = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The worker's last `status` rate. */
  rate = 0;
  private readonly onUp = (): void => {
    if (!this.handle) this.connect();
  };

  constructor(
    readonly link: WorkerLink,
    private readonly client: HubStreamClient,
    private readonly timing: LinkTiming,
  ) {
    link.on('up', this.onUp);
  }

  connect(): void {
    if (this.closed || this.handle) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const c = this.client;
    let done = false;
    this.handle = this.link.backend.stream(
      { q: c.q, view: c.view },
      {
        onEntryText: (text) => {
          // A removed worker's socket may still hold entries: none reach the client.
          if (!this.closed) c.peer.entry(text);
        },
        onMessage: (m) => this.message(m),
        onOpen: () => {
          this.open = true;
          this.failures = 0;
          if (c.paused) this.handle?.pause();
        },
        onClose: () => {
          if (done) return;
          done = true;
          this.open = false;
          this.handle = undefined;
          this.rate = 0;
          if (this.closed) return;
          // The worker went away (restart?) or refused: retry with backoff, or when it is up.
          this.failures++;
          this.link.probeSoon();
          this.timer = setTimeout(() => this.connect(), backoffDelay(this.failures, this.timing));
          this.timer.unref();
        },
      },
    );
  }

  private message(m: StreamMessage): void {
    switch (m.type) {
      case 'dropped':
        // The worker dropped for the hub: the client lost those too.
        this.client.peer.drop(m.count);
        break;
      case 'status':
        this.rate = m.entriesPerSec;
        break;
      case 'error':
        this.client.peer.control({
          type: 'error',
          error: { ...m.error, message: `worker ${this.link.name}: ${m.error.message}` },
        });
        break;
      default:
        break;
    }
  }

  get connected(): boolean {
    return this.open;
  }

  setFilter(q: string): void {
    this.handle?.setFilter(q);
  }

  pause(): void {
    this.handle?.pause();
  }

  resume(): void {
    this.handle?.resume();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.link.off('up', this.onUp);
    this.handle?.close();
  }
}

/** One WebSocket client of the hub's `/api/stream`. */
export class HubStreamClient {
  readonly peer: StreamPeer;
  q: string;
  view: EntryView;
  paused = false;
  private filter: CompiledFilter;
  private readonly upstreams: Upstream[];

  constructor(
    ws: WebSocket,
    q: string,
    view: EntryView,
    filter: CompiledFilter,
    links: readonly WorkerLink[],
    private readonly compiler: KflCompiler,
    private readonly timing: LinkTiming,
    onDrop: (n: number) => void,
  ) {
    this.q = q;
    this.view = view;
    this.filter = filter;
    this.peer = new StreamPeer(ws, onDrop);
    this.hello();
    this.upstreams = links.map((l) => new Upstream(l, this, timing));
    for (const u of this.upstreams) u.connect();
    ws.on('message', (data) => this.clientMessage(data));
  }

  private hello(): void {
    this.peer.control({
      type: 'hello',
      kfl: kflInfo(this.filter),
      role: 'hub',
      version: version(),
    });
  }

  private clientMessage(data: unknown): void {
    const m = parseClientMessage(data);
    if (m === undefined) {
      this.peer.control({
        type: 'error',
        error: {
          code: 'KS_ERR_USAGE',
          message: 'unknown stream message (expected filter, pause or resume)',
        },
      });
      return;
    }
    if (m.type === 'pause' || m.type === 'resume') {
      this.paused = this.peer.paused = m.type === 'pause';
      for (const u of this.upstreams) {
        if (this.paused) u.pause();
        else u.resume();
      }
      return;
    }
    try {
      this.filter = this.compiler.compile(m.q);
    } catch (err) {
      this.peer.control({ type: 'error', error: errorOf(err).body.error });
      return;
    }
    this.q = m.q;
    for (const u of this.upstreams) u.setFilter(m.q);
    this.hello();
  }

  status(linksUp: number, down: string[]): void {
    this.peer.poke();
    const rate = this.upstreams.reduce((s, u) => s + u.rate, 0);
    this.peer.control({
      type: 'status',
      entriesPerSec: Math.round(rate * 10) / 10,
      workersUp: linksUp,
      workersDown: down,
      dropped: this.peer.dropped,
    });
  }

  /** A worker joined the hub (discovery): an upstream to it opens with this client's filter. */
  addLink(link: WorkerLink): void {
    if (this.upstreams.some((u) => u.link === link)) return;
    const u = new Upstream(link, this, this.timing);
    this.upstreams.push(u);
    u.connect();
  }

  /** A worker left the hub: its upstream closes and nothing more of it reaches the client. */
  removeLink(link: WorkerLink): void {
    const i = this.upstreams.findIndex((u) => u.link === link);
    if (i < 0) return;
    this.upstreams[i]!.close();
    this.upstreams.splice(i, 1);
  }

  /** Upstreams currently open (tests, health). */
  connectedUpstreams(): number {
    return this.upstreams.filter((u) => u.connected).length;
  }

  stats(): PeerStats {
    return this.peer.stats();
  }

  close(): void {
    for (const u of this.upstreams) u.close();
  }
}

/**
 * Accepts a hub stream client: validates its filter (a bad one is answered with an `error`
 * message and close code STREAM_CLOSE_BAD_FILTER) and opens its upstreams.
 */
export function acceptHubStream(
  ws: WebSocket,
  params: Params,
  links: readonly WorkerLink[],
  compiler: KflCompiler,
  timing: LinkTiming,
  onDrop: (n: number) => void,
): HubStreamClient | undefined {
  let q: { q: string; view: EntryView };
  let filter: CompiledFilter;
  try {
    q = parseStreamQuery(params);
    filter = compiler.compile(q.q);
  } catch (err) {
    const { body } = errorOf(err);
    ws.send(JSON.stringify({ type: 'error', error: body.error } satisfies StreamMessage));
    ws.close(STREAM_CLOSE_BAD_FILTER, body.error.code);
    return undefined;
  }
  return new HubStreamClient(ws, q.q, q.view, filter, links, compiler, timing, onDrop);
}
