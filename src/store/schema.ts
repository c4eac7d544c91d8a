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
 * record kind or Entry field therefore needs a line here to be fast, never to be correct.
 *
 * Field types:
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

export interface RecordSchema {
  kind: string;
  fields: readonly Field[];
}

const req = (t: 'num' | 'tsd' | 'str' | 'sym' | 'bool' | 'json' | 'heavy', key: string): Field => ({
  t,
  key,
});
const opt = (t: 'num' | 'tsd' | 'str' | 'sym' | 'bool' | 'json' | 'heavy', key: string): Field => ({
  t,
  key,
  opt: true,
});

const BODY: readonly Field[] = [
  req('num', 'size'),
  opt('sym', 'encoding'),
  opt('num', 'decodedSize'),
  opt('heavy', 'text'),
  opt('heavy', 'base64'),
  opt('bool', 'truncated'),
];

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

const HTTP_REQUEST: readonly Field[] = [
  req('sym', 'method'),
  req('str', 'url'),
  { t: 'prefix', key: 'path', of: 'url' },
  req('heavy', 'query'),
  req('sym', 'httpVersion'),
  req('heavy', 'headers'),
  req('heavy', 'headersList'),
  req('heavy', 'cookies'),
  req('num', 'headersSize'),
  { t: 'obj', key: 'body', fields: BODY, skip: true },
  req('tsd', 'ts'),
  opt('heavy', 'trailers'),
];

const HTTP_RESPONSE: readonly Field[] = [
  req('num', 'statusCode'),
  req('sym', 'statusText'),
  req('sym', 'httpVersion'),
  req('heavy', 'headers'),
  req('heavy', 'headersList'),
  req('heavy', 'cookies'),
  req('num', 'headersSize'),
  { t: 'obj', key: 'body', fields: BODY, skip: true },
  req('tsd', 'ts'),
  opt('heavy', 'trailers'),
  opt('heavy', 'informational'),
];

const DNS_QUESTION: readonly Field[] = [
  req('sym', 'name'),
  req('sym', 'type'),
  req('sym', 'class'),
];
const DNS_ANSWER: readonly Field[] = [
  req('sym', 'name'),
  req('sym', 'type'),
  req('sym', 'class'),
  req('num', 'ttl'),
  req('sym', 'data'),
];

const DNS_MESSAGE: readonly Field[] = [
  req('num', 'id'),
  req('sym', 'opcode'),
  req('num', 'flags'),
  req('sym', 'rcode'),
  req('num', 'rcodeNumber'),
  { t: 'list', key: 'questions', fields: DNS_QUESTION, skip: true },
  { t: 'list', key: 'answers', fields: DNS_ANSWER, skip: true },
  { t: 'list', key: 'authorities', fields: DNS_ANSWER, skip: true },
  { t: 'list', key: 'additionals', fields: DNS_ANSWER, skip: true },
  req('num', 'length'),
  req('tsd', 'ts'),
];

const DIRECTION: readonly Field[] = [
  req('num', 'packets'),
  req('num', 'bytes'),
  req('num', 'payloadBytes'),
];

export const RECORDS: readonly RecordSchema[] = [
  {
    kind: 'http',
    fields: [
      { t: 'kind', key: 'kind', value: 'http' },
      { t: 'obj', key: 'request', opt: true, fields: HTTP_REQUEST, skip: true },
      { t: 'obj', key: 'response', opt: true, fields: HTTP_RESPONSE, skip: true },
    ],
  },
  {
    kind: 'ws',
    fields: [
      { t: 'kind', key: 'kind', value: 'ws' },
      req('bool', 'fromClient'),
      req('sym', 'opcode'),
      req('num', 'frames'),
      req('bool', 'masked'),
      req('bool', 'compressed'),
      req('num', 'payloadLength'),
      { t: 'obj', key: 'payload', fields: BODY, skip: true },
      opt('num', 'closeCode'),
      opt('str', 'closeReason'),
      opt('sym', 'upgradePath'),
    ],
  },
  {
    kind: 'dns',
    fields: [
      { t: 'kind', key: 'kind', value: 'dns' },
      req('sym', 'transport'),
      { t: 'obj', key: 'request', opt: true, fields: DNS_MESSAGE, skip: true },
      { t: 'obj', key: 'response', opt: true, fields: DNS_MESSAGE, skip: true },
      opt('num', 'retransmissions'),
    ],
  },
  {
    kind: 'tcp_conn',
    fields: [
      { t: 'kind', key: 'kind', value: 'tcp_conn' },
      req('sym', 'state'),
      { t: 'obj', key: 'client', fields: DIRECTION },
      { t: 'obj', key: 'server', fields: DIRECTION },
      req('bool', 'synSeen'),
      opt('num', 'handshakeRtt'),
      req('num', 'retransmissions'),
      req('num', 'outOfOrder'),
      req('num', 'duplicateAcks'),
      req('num', 'zeroWindow'),
      req('num', 'gapBytes'),
      req('bool', 'finClient'),
      req('bool', 'finServer'),
      req('bool', 'rst'),
      { t: 'strs', key: 'l7Detected' },
      req('sym', 'endReason'),
      req('tsd', 'lastTs'),
    ],
  },
  {
    kind: 'udp_flow',
    fields: [
      { t: 'kind', key: 'kind', value: 'udp_flow' },
      req('sym', 'state'),
      { t: 'obj', key: 'client', fields: DIRECTION },
      { t: 'obj', key: 'server', fields: DIRECTION },
      { t: 'strs', key: 'l7Detected' },
      req('sym', 'endReason'),
      req('tsd', 'lastTs'),
    ],
  },
];

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
