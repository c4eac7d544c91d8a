import { ByteReader } from './bytes.ts';

/**
 * A segment's string dictionary. Summary rows refer to repeated strings (methods, pod names,
 * header-free JSON values such as DNS questions or label maps) by number; each segment has its
 * own dictionary, written into the segment as DICT frames before the first entry that uses a
 * string, so a segment is readable on its own and evicting it frees its strings too.
 */

/** Recursively freezes a parsed JSON value (shared between summary entries; never mutated). */
function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

export class Dict {
  readonly strings: string[] = [];
  /** Lookup while the segment is written; dropped when it is sealed. */
  private map: Map<string, number> | undefined = new Map();
  /** Parsed and frozen JSON values, by id (filled on first use). */
  private readonly parsed: unknown[] = [];
  /** Strings below this index have been written as DICT frames. */
  written = 0;
  /** UTF-16 code units held (a memory estimate). */
  chars = 0;

  /** The id of `s`, adding it when new (the caller writes DICT frames for ids ≥ `written`). */
  ref(s: string): number {
    const map = this.map;
    if (map === undefined) throw new Error('dictionary is sealed');
    let id = map.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      map.set(s, id);
      this.chars += s.length;
    }
    return id;
  }

  /**
   * Adds string `id` read back from a DICT frame (recovery). Ids skipped by a lost frame stay
   * holes: `s()` throws for them, so an entry that needs one is reported corrupt, never misread.
   */
  load(id: number, s: string): boolean {
    if (id < this.strings.length) return false;
    while (this.strings.length < id) this.strings.push(undefined as unknown as string);
    this.strings.push(s);
    this.map?.set(s, id);
    this.chars += s.length;
    this.written = this.strings.length;
    return true;
  }

  s(id: number): string {
    const v = this.strings[id];
    if (v === undefined) throw new RangeError(`dictionary id ${id} out of range`);
    return v;
  }

  /** The JSON value of string `id`, parsed once and frozen (summary entries share it). */
  frozen(id: number): unknown {
    let v = this.parsed[id];
    if (v === undefined) {
      v = deepFreeze(JSON.parse(this.s(id)) as unknown);
      this.parsed[id] = v;
    }
    return v;
  }

  /** The bytes of string `id` (a `shared` group's encoding, stored as latin1). */
  bytes(id: number): Buffer {
    return Buffer.from(this.s(id), 'latin1');
  }

  /** Group `id` decoded once by `decode` and frozen (summary entries share it). */
  blob<T>(
    id: number,
    decode: (r: ByteReader, d: Dict, i: number, t: number, st: unknown) => T,
    i: number,
    t: number,
  ): T {
    let v = this.parsed[id] as T | undefined;
    if (v === undefined) {
      v = deepFreeze(decode(new ByteReader(this.bytes(id)), this, i, t, undefined));
      this.parsed[id] = v;
    }
    return v;
  }

  /** A fresh, caller-owned parse of the JSON value of string `id` (full entries). */
  fresh(id: number): unknown {
    return JSON.parse(this.s(id)) as unknown;
  }

  /** No more strings will be added: drop the lookup map. */
  seal(): void {
    this.map = undefined;
  }

  get sealed(): boolean {
    return this.map === undefined;
  }
}
