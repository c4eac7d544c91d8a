/**
 * The worker's ingest: every entry the pipelines produce (and every `worker.ingest()`) goes
 * through one explicit, ordered list of stages — today pod targeting, enrichment, redaction,
 * store, publish. A stage is an object: a name, a function that passes the entry on, drops it or
 * holds it to decide later, what a throw means (`onError`), its named limits and its own
 * figures. The runner counts for every stage what came in and what became of it, and the time
 * spent in it, and nothing else; so a new step (scripting hooks, webhooks, recording) is one more
 * object in the list the worker builds, never an edit of the loop.
 *
 * Time is measured on a random sample of the entries (one in about INGEST_TIME_SAMPLE), each
 * timed one standing for the entries since the previous: a clock read costs 50–100 ns, so timing
 * every entry through five stages would add ~0.5 µs to each (measured: `scripts/bench/ingest.ts
 * --runner`), where the whole runner costs ~0.1 µs and a stored entry 15–50 µs.
 */
import type { IngestStageCounters } from '../api/types.ts';
import type { Entry } from '../entry/model.ts';
import { HeldEntries, HOLD_UNRESOLVED_MAX, HOLD_UNRESOLVED_MS, type HoldHooks } from './hold.ts';

/** What a stage did with an entry: passed it on, dropped it, or took it to decide later. */
export type StageResult = 'pass' | 'drop' | 'hold';

/** How a stage that held an entry lets it go (given once, by `bind`). */
export interface StageControl {
  /** The held entry goes on to the next stage (counted as passed). */
  pass(e: Entry): void;
  /** The held entry is dropped after all (counted as dropped). */
  drop(e: Entry): void;
}

export interface IngestStage {
  /** Names the stage in health (`CaptureCounters.ingest`) and metrics (`stage` label); unique. */
  readonly name: string;
  /**
   * When `run` throws: `keep` passes the entry on (a best-effort step such as enrichment),
   * `drop` stops it (never store what could not be redacted). Counted as an error either way.
   */
  readonly onError: 'keep' | 'drop';
  /** Its named limits, shown in health (e.g. how long and how many entries it may hold). */
  readonly limits?: Readonly<Record<string, number>>;
  run(e: Entry): StageResult;
  /** Called once, before any entry: how a stage that answers `hold` lets entries go later. */
  bind?(ctl: StageControl): void;
  /** Entries it holds now. */
  held?(): number;
  /** Figures of its own, shown in health. */
  stats?(): Record<string, number>;
  /** The worker is closing (its store still open): a last decision on what it holds. */
  close?(): void;
}

/** Mean distance between two timed entries. */
export const INGEST_TIME_SAMPLE = 64;

interface Tally {
  in: number;
  passed: number;
  dropped: number;
  errors: number;
  /** Estimated time spent (ms): each timed entry's time × the entries it stands for. */
  ms: number;
}

/** Runs entries through `stages` in order, counting per stage. */
export class Ingest {
  private readonly tallies: Tally[];
  /** Entries until the next timed one. */
  private countdown = 1;
  /** How many entries the next timed one stands for. */
  private weight = 1;

  constructor(
    readonly stages: readonly IngestStage[],
    private readonly sample = INGEST_TIME_SAMPLE,
  ) {
    const names = new Set<string>();
    for (const s of stages) {
      if (names.has(s.name)) throw new Error(`ingest: two stages named ${s.name}`);
      names.add(s.name);
    }
    this.tallies = stages.map(() => ({ in: 0, passed: 0, dropped: 0, errors: 0, ms: 0 }));
    stages.forEach((s, i) => {
      const t = this.tallies[i]!;
      s.bind?.({
        pass: (e) => {
          t.passed++;
          this.from(i + 1, e);
        },
        drop: () => {
          t.dropped++;
        },
      });
    });
  }

  /** Runs `e` through every stage; true when it came out of the last one. */
  push(e: Entry): boolean {
    return this.from(0, e);
  }

  /** Runs `e` from stage `start` on; about one entry in `sample` has its stages timed. */
  private from(start: number, e: Entry): boolean {
    let w = 0;
    if (--this.countdown === 0) {
      w = this.weight;
      // The next timed entry: uniformly 1…2·sample−1 entries away (mean `sample`), so that no
      // period in the traffic lines up with the sampling.
      this.countdown = this.weight = 1 + Math.floor(Math.random() * (2 * this.sample - 1));
    }
    const stages = this.stages;
    let t0 = w > 0 ? performance.now() : 0;
    for (let i = start; i < stages.length; i++) {
      const s = stages[i]!;
      const t = this.tallies[i]!;
      t.in++;
      let r: StageResult | 'error';
      try {
        r = s.run(e);
      } catch {
        r = 'error';
      }
      if (w > 0) {
        const t1 = performance.now();
        t.ms += (t1 - t0) * w;
        t0 = t1;
      }
      if (r === 'pass') {
        t.passed++;
        continue;
      }
      if (r === 'error') {
        t.errors++;
        if (s.onError === 'drop') return false;
        continue;
      }
      if (r === 'drop') t.dropped++;
      return false;
    }
    return true;
  }

  /** The stage's counters, by name, live (they change as entries go by); undefined: no such stage. */
  tally(name: string): Readonly<Omit<Tally, 'ms'>> | undefined {
    const i = this.stages.findIndex((s) => s.name === name);
    return i < 0 ? undefined : this.tallies[i];
  }

  /** Every stage's counters, in order. */
  counters(): IngestStageCounters[] {
    return this.stages.map((s, i) => {
      const t = this.tallies[i]!;
      const c: IngestStageCounters = {
        name: s.name,
        in: t.in,
        passed: t.passed,
        dropped: t.dropped,
        errors: t.errors,
        onError: s.onError,
        timeUs: Math.round(t.ms * 1000),
      };
      if (s.held) c.held = s.held();
      if (s.limits) c.limits = { ...s.limits };
      if (s.stats) c.stats = s.stats();
      return c;
    });
  }

  /** Lets every stage decide on what it holds (in order: a later stage may get entries). */
  close(): void {
    for (const s of this.stages) s.close?.();
  }
}

// ---------------------------------------------------------------- stages

/** A hook that changes the entry in place (enrichment, redaction): always passes. */
export function hookStage(
  name: string,
  fn: (e: Entry) => void,
  onError: 'keep' | 'drop',
): IngestStage {
  return {
    name,
    onError,
    run: (e) => {
      fn(e);
      return 'pass';
    },
  };
}

export interface TargetStageOptions {
  /** Pod targeting's verdict (true: keep). */
  keep: (e: Entry) => boolean;
  /** When given, entries it drops whose verdict may yet change wait (HeldEntries). */
  hold?: Pick<HoldHooks, 'unresolved' | 'version'>;
  /** A held entry that is kept is renumbered: it is stored after the entries that came meanwhile. */
  renumber: (e: Entry) => Entry;
  /** The hold's limits (default HOLD_UNRESOLVED_MS, HOLD_UNRESOLVED_MAX). */
  holdMs?: number;
  holdMax?: number;
}

export interface TargetStage extends IngestStage {
  /** The hold's figures (undefined without a hold). */
  holdStats(): ReturnType<HeldEntries['stats']> | undefined;
}

/**
 * Pod targeting (`worker --kube`): entries of no targeted pod (or another node's) are dropped.
 * An entry of a pod the informers have not heard of yet waits for its identity instead (held,
 * bounded in time and count) and is decided again when the identity table changes. A verdict
 * that throws keeps the entry.
 */
export function targetStage(o: TargetStageOptions): TargetStage {
  let held: HeldEntries | undefined;
  const maxMs = o.holdMs ?? HOLD_UNRESOLVED_MS;
  const max = o.holdMax ?? HOLD_UNRESOLVED_MAX;
  return {
    name: 'target',
    onError: 'keep',
    ...(o.hold && { limits: { holdMs: maxMs, holdMax: max } }),
    bind(ctl) {
      if (!o.hold) return;
      held = new HeldEntries(
        { keep: o.keep, ...o.hold },
        (e) => ctl.pass(o.renumber(e)),
        (e) => ctl.drop(e),
        { maxMs, max },
      );
    },
    run(e) {
      if (o.keep(e)) return 'pass';
      return held?.offer(e) ? 'hold' : 'drop';
    },
    ...(o.hold && {
      held: () => held?.stats().waiting ?? 0,
      stats: () => {
        const h = held!.stats();
        return {
          heldTotal: h.held,
          heldKept: h.released,
          heldResolvedDropped: h.resolvedDropped,
          heldExpired: h.expired,
          heldOverflow: h.overflow,
        };
      },
    }),
    holdStats: () => held?.stats(),
    close() {
      held?.close();
    },
  };
}

export interface StoreStage extends IngestStage {
  /** Requests stored with their response. */
  matchedPairs(): number;
}

/**
 * Appends to the store (dropped when the store refuses it: its write backlog is full). `stored`
 * gets the id the store gave.
 */
export function storeStage(append: (e: Entry) => number, stored: (id: number) => void): StoreStage {
  let matchedPairs = 0;
  return {
    name: 'store',
    onError: 'drop',
    run(e) {
      const id = append(e);
      if (id === 0) return 'drop';
      if (id !== e.id) e.id = id;
      stored(id);
      // A matched pair: a request with its response (not a lone request, a message, an L4
      // record).
      const r = e.record;
      if (
        'response' in r &&
        r.response !== undefined &&
        'request' in r &&
        r.request !== undefined
      ) {
        matchedPairs++;
      }
      return 'pass';
    },
    stats: () => ({ matchedPairs }),
    matchedPairs: () => matchedPairs,
  };
}

/** Sends the stored entry to the live-stream subscribers (whose drops are counted there). */
export function publishStage(publish: (e: Entry) => void): IngestStage {
  return hookStage('publish', publish, 'keep');
}
