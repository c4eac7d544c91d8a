/**
 * The hub's live stream: for each client, one upstream stream per worker with the client's
 * filter, fanned in to the client's bounded queue (StreamPeer: the hub drops for a slow client,
 * never buffers without bound; drops the workers report for the hub are passed on). The hub
 * validates filters itself, so a bad filter is answered once, not once per worker. An upstream
 * that closes is reopened with exponential backoff, and at once when its worker comes back up.
 */
import type { StreamPeer, StreamSession, PeerStats } from '../api/stream.ts';
import type { EntryView, StreamMessage } from '../api/types.ts';
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

/**
 * One WebSocket client of the hub's `/api/stream` (after the handshake of src/api/stream.ts,
 * which validates its filters and says `hello`): its upstreams follow its filter and pauses.
 */
export class HubStreamClient implements StreamSession {
  paused = false;
  private readonly upstreams: Upstream[];

  constructor(
    readonly peer: StreamPeer,
    public q: string,
    readonly view: EntryView,
    links: readonly WorkerLink[],
    private readonly timing: LinkTiming,
    private readonly onClose: (c: HubStreamClient) => void,
  ) {
    this.upstreams = links.map((l) => new Upstream(l, this, timing));
    for (const u of this.upstreams) u.connect();
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    for (const u of this.upstreams) {
      if (paused) u.pause();
      else u.resume();
    }
  }

  setFilter(q: string): void {
    this.q = q;
    for (const u of this.upstreams) u.setFilter(q);
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
    this.onClose(this);
  }
}
