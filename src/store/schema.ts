/**
 * The shape of an Entry as the store encodes it: which fields go into the compact summary row
 * (kept in memory, enough for filters, stats and lists) and which are "heavy" (headers, cookies,
 * query maps, body text: written as one JSON array per entry, read only for full entries or when
 * a filter touches them).
 *
 * Field order is the order the pipeline builds its objects in (required keys of the literal,
 * then optional keys as they are assigned), so a read-back entry has the same key order and
 * `JSON.stringify` gives the same text. An entry with a key or a value type these schemas do not
 * know is stored whole as JSON (an "opaque" entry): always correct, only slower to filter. A new
 * Entry field therefore needs a line here to be fast, never to be correct; a record kind's row is
 * declared by its view (src/tap/dissectors/<id>/view.ts).
 *
 * Field types: src/entry/row-schema.ts.
 *
 * `shared` (last in an object): the following fields of the same object are encoded together
 * and interned per segment, the row keeps only their dictionary id. An endpoint's identity (pod,
 * service, labels…) repeats for every call of every connection of that pod: 1–2 bytes instead
 * of ~17, and a summary entry reuses one decoded (frozen) copy per segment.
 *
 * `skip` (objects, records, lists): the bytes are length-prefixed (1–2 bytes), so a summary
 * entry decodes them only when a filter first reads them: `status_code >= 500` builds the record
 * and its response, never the endpoints, the request or the bodies.
 */

import { opt, req, type Field, type RecordSchema } from '../entry/row-schema.ts';
import { recordViews } from '../tap/records.ts';

export type { Field, RecordSchema } from '../entry/row-schema.ts';

const NAME_NS: readonly Field[] = [req('sym', 'name'), req('sym', 'namespace')];

const ENDPOINT: readonly Field[] = [
  req('sym', 'ip'),
  req('num', 'port'),
  {
    t: 'shared',
    key: '',
    fields: [
      opt('sym', 'name'),
      opt('sym', 'namespace'),
      { t: 'obj', key: 'pod', opt: true, fields: NAME_NS },
      { t: 'obj', key: 'service', opt: true, fields: NAME_NS },
      { t: 'map', key: 'labels', opt: true },
      { t: 'map', key: 'annotations', opt: true },
      { t: 'obj', key: 'process', opt: true, fields: [req('sym', 'name'), opt('num', 'pid')] },
      opt('sym', 'containerId'),
      opt('sym', 'node'),
      opt('sym', 'dns'),
      opt('sym', 'resolution'),
    ],
  },
];

/**
 * Every record kind's row, from its view (src/tap/records.ts): each dissector declares its own
 * next to its record, the engine its L4 records.
 */
export const RECORDS: readonly RecordSchema[] = recordViews.map((v) => ({
  kind: v.kind,
  code: v.store.code,
  fields: v.store.fields,
}));

/** The Entry itself, in the order the pipeline builds it (src/tap/pipeline.ts). */
export const ENTRY: readonly Field[] = [
  { t: 'id', key: 'id' },
  req('sym', 'node_id'),
  req('sym', 'worker'),
  { t: 'obj', key: 'node', fields: [req('sym', 'name'), req('sym', 'ip')], skip: true },
  { t: 'time', key: 'timestamp' },
  req('num', 'elapsed_time'),
  { t: 'obj', key: 'src', fields: ENDPOINT, skip: true },
  { t: 'obj', key: 'dst', fields: ENDPOINT, skip: true },
  req('sym', 'transport'),
  req('sym', 'protocol'),
  req('num', 'flow_id'),
  req('num', 'conn_id'),
  { t: 'stream', key: 'stream' },
  req('num', 'index'),
  req('sym', 'capture_source'),
  { t: 'record', key: 'record', kinds: RECORDS, skip: true },
  req('num', 'requestSize'),
  req('num', 'responseSize'),
  {
    t: 'obj',
    key: 'error',
    opt: true,
    fields: [req('sym', 'code'), req('str', 'message')],
    skip: true,
  },
  { t: 'strs', key: 'redacted', opt: true },
];
