/**
 * The live traffic list's data: history from `GET /api/entries`, then every new entry from
 * `WS /api/stream`, kept in a bounded ring. The socket is opened first and history is fetched
 * once the server said hello, so nothing falls between the two; the overlap is de-duplicated by
 * (node, id). Messages are applied as they arrive (O(1) each) and listeners are told at most once
 * per animation frame, which is what keeps thousands of entries per second cheap to render.
 */
import type {
  ApiErrorBody,
  EntrySummary,
  KflInfo,
  StreamClientMessage,
  StreamMessage,
} from '../../../api/types.ts';
import { errorBody, loadHistory } from './api.ts';
import { MAX_ROWS, MIN_RENDER_INTERVAL_MS, RECONNECT_MAX_MS, RECONNECT_MIN_MS } from './limits.ts';
import { RowRing } from './rows.ts';

export type Phase = 'connecting' | 'loading' | 'live' | 'paused' | 'error';

export interface LiveState {
  phase: Phase;
  /** The filter's problem (bad KFL) or the connection's. */
  error?: ApiErrorBody['error'];
  kfl?: KflInfo;
  /** Entries the server dropped for this client (slow consumer), as it reported them. */
  serverDropped: number;
  /** From the server's `status` messages. */
  entriesPerSec?: number;
  workersUp?: number;
  workersDown: string[];
  /** History had more entries than were loaded. */
  historyMore: boolean;
  /** Workers that did not answer the history query. */
  unavailable: string[];
}

const key = (e: EntrySummary): string => `${e.node}\n${e.id}`;

function initialState(): LiveState {
  return {
    phase: 'connecting',
    serverDropped: 0,
    workersDown: [],
    historyMore: false,
    unavailable: [],
  };
}

export class LiveList {
  readonly rows = new RowRing<EntrySummary>(MAX_ROWS);
  state: LiveState = initialState();
  /** Bumped once per frame when rows or state changed. */
  version = 0;
  private q = '';
  private ws: WebSocket | undefined;
  private history: AbortController | undefined;
  /** Live entries that arrived while history was loading (the newest MAX_ROWS of them). */
  private early: RowRing<EntrySummary> | undefined;
  private paused = false;
  /** History is loaded once per connection (a repeated hello must not duplicate rows). */
  private historyStarted = false;
  private frame = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastNotify = 0;
  private retryMs = RECONNECT_MIN_MS;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly listeners = new Set<() => void>();
  private generation = 0;

  constructor(private readonly wsBase: string) {}

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  getVersion = (): number => this.version;

  /** Starts (or restarts) the list for filter `q`: clears rows, reconnects, reloads history. */
  start(q: string): void {
    this.stop();
    this.q = q;
    this.rows.clear();
    this.paused = false;
    this.historyStarted = false;
    this.state = initialState();
    this.connect();
    this.changed();
  }

  stop(): void {
    this.generation++;
    this.history?.abort();
    this.history = undefined;
    this.early = undefined;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const ws = this.ws;
    this.ws = undefined;
    if (ws !== undefined) {
      ws.onmessage = ws.onclose = ws.onerror = ws.onopen = null;
      ws.close();
    }
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.send({ type: 'pause' });
    this.state = { ...this.state, phase: 'paused' };
    this.changed();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.send({ type: 'resume' });
    this.state = { ...this.state, phase: this.early !== undefined ? 'loading' : 'live' };
    this.changed();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  private send(m: StreamClientMessage): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
  }

  private connect(): void {
    const gen = this.generation;
    const url = `${this.wsBase}/api/stream?q=${encodeURIComponent(this.q)}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onmessage = (ev: MessageEvent) => {
      if (gen !== this.generation || typeof ev.data !== 'string') return;
      let m: StreamMessage;
      try {
        m = JSON.parse(ev.data) as StreamMessage;
      } catch {
        return;
      }
      this.onMessage(m, gen);
    };
    ws.onclose = () => {
      if (gen !== this.generation) return;
      this.ws = undefined;
      if (this.state.phase === 'error') return; // the server refused the filter: don't loop
      // Reconnect with back-off; a fresh start reloads history so no entry is lost.
      this.state = { ...this.state, phase: 'connecting' };
      this.changed();
      const wait = this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS);
      this.retryTimer = setTimeout(() => {
        if (gen !== this.generation) return;
        const paused = this.paused;
        this.start(this.q);
        if (paused) this.pause();
      }, wait);
    };
  }

  private onMessage(m: StreamMessage, gen: number): void {
    switch (m.type) {
      case 'hello':
        this.retryMs = RECONNECT_MIN_MS;
        this.state = { ...this.state, kfl: m.kfl, phase: this.paused ? 'paused' : 'loading' };
        if (!this.historyStarted) {
          this.historyStarted = true;
          void this.loadHistory(gen);
        }
        break;
      case 'entry': {
        if (this.paused) return;
        const e = m.entry as EntrySummary;
        (this.early ?? this.rows).push(e);
        break;
      }
      case 'dropped':
        this.state = { ...this.state, serverDropped: m.total };
        break;
      case 'status':
        this.state = {
          ...this.state,
          entriesPerSec: m.entriesPerSec,
          workersUp: m.workersUp,
          workersDown: m.workersDown,
          serverDropped: Math.max(this.state.serverDropped, m.dropped),
        };
        break;
      case 'error':
        this.state = { ...this.state, phase: 'error', error: m.error };
        break;
    }
    this.changed();
  }

  private async loadHistory(gen: number): Promise<void> {
    const ctl = new AbortController();
    this.history = ctl;
    const early = new RowRing<EntrySummary>(MAX_ROWS);
    this.early = early;
    try {
      const h = await loadHistory(this.q, ctl.signal);
      if (gen !== this.generation) return;
      const seen = new Set<string>();
      for (const e of h.entries) {
        seen.add(key(e));
        this.rows.push(e);
      }
      for (let i = 0; i < early.size; i++) {
        const e = early.at(i)!;
        if (!seen.has(key(e))) this.rows.push(e);
      }
      this.rows.dropped += early.dropped;
      this.state = {
        ...this.state,
        phase: this.paused ? 'paused' : 'live',
        historyMore: h.more,
        unavailable: h.unavailable,
      };
    } catch (err) {
      if (gen !== this.generation) return;
      this.state = { ...this.state, phase: 'error', error: errorBody(err) };
    } finally {
      if (gen === this.generation) {
        this.early = undefined;
        this.history = undefined;
      }
    }
    this.changed();
  }

  /**
   * Coalesces notifications: at most one per animation frame and one per MIN_RENDER_INTERVAL_MS,
   * however many messages arrived in between.
   */
  private changed(): void {
    if (this.frame !== 0 || this.timer !== undefined) return;
    const wait = this.lastNotify + MIN_RENDER_INTERVAL_MS - performance.now();
    const inFrame = (): void => {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.lastNotify = performance.now();
        this.version++;
        for (const fn of this.listeners) fn();
      });
    };
    if (wait <= 0) inFrame();
    else
      this.timer = setTimeout(() => {
        this.timer = undefined;
        inFrame();
      }, wait);
  }
}
