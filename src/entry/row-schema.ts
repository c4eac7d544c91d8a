/**
 * The vocabulary in which a record kind describes its compact storage (src/store/schema.ts and
 * codec.ts turn it into row encoders). It lives here, below the engine and the store, so that a
 * dissector declares its record's row next to the record itself. Field types:
 * - `id`, `time`: the entry id / timestamp (kept in index columns, not in the row);
 * - `num`: any number; `tsd`: a time stored relative to the entry timestamp;
 * - `str`: an inline string (high cardinality: URLs); `sym`: a dictionary string (methods, pods);
 * - `prefix`: a string that is usually a prefix of field `of` (path of url);
 * - `stream`: `${transport}-${flow_id}` unless it differs;
 * - `bool`; `json`: any JSON value interned in the dictionary (rarely worth it: JSON.stringify
 *   of a small value costs ~1 µs, more than all the rest of a row);
 * - `map`: a string → string map (labels), `strs`: a list of strings, `list`: a list of objects
 *   (DNS questions and answers), all with dictionary strings;
 * - `heavy`: any JSON value kept out of the summary; `obj`: nested object;
 * - `kind`: the constant discriminant of a record; `record`: the tagged union of record kinds.
 * `skip` (objects, records, lists): length-prefixed, decoded only when a filter reads them.
 */

export type Field =
  | { readonly t: 'id' | 'time'; readonly key: string }
  | { readonly t: 'kind'; readonly key: string; readonly value: string }
  | {
      readonly t: 'num' | 'tsd' | 'str' | 'sym' | 'bool' | 'json' | 'heavy' | 'stream';
      readonly key: string;
      readonly opt?: boolean;
    }
  | { readonly t: 'prefix'; readonly key: string; readonly of: string; readonly opt?: boolean }
  | { readonly t: 'map' | 'strs'; readonly key: string; readonly opt?: boolean }
  | {
      readonly t: 'obj' | 'list';
      readonly key: string;
      readonly opt?: boolean;
      readonly fields: readonly Field[];
      readonly skip?: boolean;
    }
  | {
      readonly t: 'record';
      readonly key: string;
      readonly kinds: readonly RecordSchema[];
      readonly skip?: boolean;
    }
  | { readonly t: 'shared'; readonly key: ''; readonly fields: readonly Field[] };

/**
 * How one record kind is stored. `code` is the kind's byte in every row: it is written to disk,
 * so it is never reused or changed (0 http, 1 ws, 2 dns, 3 tcp_conn, 4 udp_flow; a new kind takes
 * the next free number). `fields` start with the constant discriminant (`kindField`).
 */
export interface RecordSchema {
  kind: string;
  code: number;
  fields: readonly Field[];
}

export const req = (
  t: 'num' | 'tsd' | 'str' | 'sym' | 'bool' | 'json' | 'heavy',
  key: string,
): Field => ({
  t,
  key,
});
export const opt = (
  t: 'num' | 'tsd' | 'str' | 'sym' | 'bool' | 'json' | 'heavy',
  key: string,
): Field => ({
  t,
  key,
  opt: true,
});

/** A kept message body (entry/model.ts `Body`). */
export const BODY: readonly Field[] = [
  req('num', 'size'),
  opt('sym', 'encoding'),
  opt('num', 'decodedSize'),
  opt('heavy', 'text'),
  opt('heavy', 'base64'),
  opt('bool', 'truncated'),
];

/** The constant discriminant every record schema starts with. */
export const kindField = (kind: string): Field => ({ t: 'kind', key: 'kind', value: kind });
