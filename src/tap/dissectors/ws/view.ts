/** How WebSocket message records are stored, shown, summarised, cut, redacted and counted. */
import { BODY, kindField, opt, req } from '../../../entry/row-schema.ts';
import { normalizePath } from '../../../util/normalize.ts';
import { recordView } from '../types.ts';
import type { WsRecord } from './record.ts';

export const wsView = recordView<WsRecord>({
  kind: 'ws',
  store: {
    code: 1,
    fields: [
      kindField('ws'),
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
  summary: (r) =>
    `${r.fromClient ? '→' : '←'} ${r.opcode} ${r.payloadLength}B${r.closeCode ? ` ${r.closeCode}` : ''}`,
  statusText: () => '',
  status: () => undefined,
  statusClass: () => 'none',
  listed: (r) => (r.upgradePath !== undefined ? { path: r.upgradePath } : {}),
  // A message is one-way: it has no latency.
  timed: false,
  details: (r) => (r.fromClient ? { request: { msg: r } } : { response: { msg: r } }),
  cutBodies: (r, cut) => ({ ...r, payload: cut(r.payload) }),
  redact(r, kit) {
    const at = `${r.fromClient ? 'request' : 'response'}.payload`;
    kit.jsonText(r.payload, at);
    kit.text(r.payload, at);
  },
  /** Messages count as calls on their upgrade path; they have no latency. */
  stats: {
    endpoint(e) {
      const p = (e.record as WsRecord).upgradePath;
      return { method: '', path: p === undefined ? '(unknown)' : normalizePath(p) };
    },
    classify() {},
    latency: () => undefined,
  },
});
