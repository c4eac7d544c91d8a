/**
 * Every record kind's view (src/tap/dissectors/types.ts `RecordView`): the dissectors' from the
 * registry, and the engine's own L4 records (TCP connections, UDP flows). Everything outside the
 * engine that depends on a record's shape (store rows, the JSON view, summaries, status colours,
 * payload cutting, redaction, statistics) asks here, by `Entry.protocol` then `record.kind`.
 */
import type { Entry, EntryRecord, L4Record } from '../entry/model.ts';
import { kindField, req, opt, type Field } from '../entry/row-schema.ts';
import type { FieldDef } from '../entry/fields.ts';
import { ViewBuilder, type DetailsOf } from '../entry/view.ts';
import { buildCatalogue, dissectors } from './dissectors/registry.ts';
import type { Dissector } from './dissectors/types.ts';
import { recordView, type RecordView } from './dissectors/types.ts';

const DIRECTION_ROW: readonly Field[] = [
  req('num', 'packets'),
  req('num', 'bytes'),
  req('num', 'payloadBytes'),
];

/** L4 summary: packets and payload bytes each way, and the protocols detected. */
function l4Summary(r: L4Record): string {
  return `${r.client.packets}/${r.server.packets} pkts ${r.client.payloadBytes}/${r.server.payloadBytes} B${r.l7Detected.length ? ' ' + r.l7Detected.join(',') : ''}`;
}

const l4Common = {
  summary: l4Summary,
  statusText: (r: L4Record) => r.state,
  status: () => undefined,
  statusClass: () => 'none' as const,
  listed: () => ({}),
  timed: true,
  details: () => ({}),
};

export const tcpConnView = recordView<Extract<L4Record, { kind: 'tcp_conn' }>>({
  kind: 'tcp_conn',
  store: {
    code: 3,
    fields: [
      kindField('tcp_conn'),
      req('sym', 'state'),
      { t: 'obj', key: 'client', fields: DIRECTION_ROW },
      { t: 'obj', key: 'server', fields: DIRECTION_ROW },
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
  ...l4Common,
});

export const udpFlowView = recordView<Extract<L4Record, { kind: 'udp_flow' }>>({
  kind: 'udp_flow',
  store: {
    code: 4,
    fields: [
      kindField('udp_flow'),
      req('sym', 'state'),
      { t: 'obj', key: 'client', fields: DIRECTION_ROW },
      { t: 'obj', key: 'server', fields: DIRECTION_ROW },
      { t: 'strs', key: 'l7Detected' },
      req('sym', 'endReason'),
      req('tsd', 'lastTs'),
    ],
  },
  ...l4Common,
});

/** L4 record kinds and the protocol id of their entries. */
export const L4_PROTOCOL: Readonly<Record<string, string>> = { tcp_conn: 'tcp', udp_flow: 'udp' };

/** The protocol id of an entry made from `record` (a dissector may name another: gRPC). */
export function protocolOfKind(kind: string): string {
  return L4_PROTOCOL[kind] ?? kind;
}

/** Every record kind's view, dissectors' first (registry order), then L4. */
export const recordViews: readonly RecordView[] = [
  ...dissectors.map((d) => d.view),
  tcpConnView,
  udpFlowView,
];

const byKind = new Map(recordViews.map((v) => [v.kind, v]));
const byProtocol = new Map<string, RecordView>(dissectors.map((d) => [d.id, d.view]));

/** A record kind nobody registered (an entry read from a newer store): shown, never crashes. */
const unknownView: RecordView = {
  kind: '',
  store: { code: -1, fields: [] },
  summary: () => '',
  statusText: () => '',
  status: () => undefined,
  statusClass: () => 'none',
  listed: () => ({}),
  timed: true,
  details: () => ({}),
};

/** The view of an entry: by its protocol, else its record's kind. */
export function viewOf(e: Entry): RecordView {
  return byProtocol.get(e.protocol) ?? byKind.get(e.record.kind) ?? unknownView;
}

/** The view of a record kind. */
export function viewOfKind(kind: string): RecordView | undefined {
  return byKind.get(kind);
}

/** The view of a record (by its kind). */
export function viewOfRecord(r: EntryRecord): RecordView {
  return byKind.get(r.kind) ?? unknownView;
}

/** The request/response groups of an entry's JSON view. */
export const detailsOf: DetailsOf = (e) => viewOf(e).details(e.record);

/** The JSON view of entries of these dissectors (default: all) and the L4 records. */
export function buildView(
  list: readonly Dissector[] = dissectors,
  catalogue: readonly FieldDef[] = buildCatalogue(list),
): ViewBuilder {
  return new ViewBuilder(catalogue, detailsOf);
}
