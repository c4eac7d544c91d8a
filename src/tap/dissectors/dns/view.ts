/** How DNS records are stored, shown, summarised and counted. */
import { kindField, opt, req, type Field } from '../../../entry/row-schema.ts';
import { normalizeDnsName } from '../../../util/normalize.ts';
import { recordView } from '../types.ts';
import type { DnsRecord } from './record.ts';

const QUESTION_ROW: readonly Field[] = [
  req('sym', 'name'),
  req('sym', 'type'),
  req('sym', 'class'),
];
const ANSWER_ROW: readonly Field[] = [
  req('sym', 'name'),
  req('sym', 'type'),
  req('sym', 'class'),
  req('num', 'ttl'),
  req('sym', 'data'),
];

const MESSAGE_ROW: readonly Field[] = [
  req('num', 'id'),
  req('sym', 'opcode'),
  req('num', 'flags'),
  req('sym', 'rcode'),
  req('num', 'rcodeNumber'),
  { t: 'list', key: 'questions', fields: QUESTION_ROW, skip: true },
  { t: 'list', key: 'answers', fields: ANSWER_ROW, skip: true },
  { t: 'list', key: 'authorities', fields: ANSWER_ROW, skip: true },
  { t: 'list', key: 'additionals', fields: ANSWER_ROW, skip: true },
  req('num', 'length'),
  req('tsd', 'ts'),
];

function question(r: DnsRecord) {
  return (r.request ?? r.response)?.questions[0];
}

export const dnsView = recordView<DnsRecord>({
  kind: 'dns',
  store: {
    code: 2,
    fields: [
      kindField('dns'),
      req('sym', 'transport'),
      { t: 'obj', key: 'request', opt: true, fields: MESSAGE_ROW, skip: true },
      { t: 'obj', key: 'response', opt: true, fields: MESSAGE_ROW, skip: true },
      opt('num', 'retransmissions'),
    ],
  },
  summary(r) {
    const q = question(r);
    return q ? `${q.type} ${q.name}` : '(no question)';
  },
  statusText: (r, e) =>
    r.response ? r.response.rcode : e.error ? e.error.code.replace(/^KS_/, '') : '',
  status: (r) => r.response?.rcodeNumber,
  // NXDOMAIN is the asker's miss (search domains make many); other RCODEs are the server's.
  statusClass: (s) => (s === 0 ? 'ok' : s === 3 ? 'client' : 'server'),
  listed(r) {
    const q = question(r);
    return q ? { method: q.type, path: q.name } : {};
  },
  timed: true,
  details: (r) => ({
    request: r.request && {
      msg: r.request,
      ts: r.request.ts,
      // Repeats of an unanswered query are folded into the call and counted here.
      extra: r.retransmissions ? { retransmissions: r.retransmissions } : undefined,
    },
    response: r.response && { msg: r.response, ts: r.response.ts },
  }),
  stats: {
    endpoint(e) {
      const q = question(e.record as DnsRecord);
      return q === undefined
        ? { method: '', path: '(no question)' }
        : { method: q.type, path: normalizeDnsName(q.name) };
    },
    classify(e, out) {
      const rc = (e.record as DnsRecord).response?.rcodeNumber;
      if (rc !== undefined && rc !== 0) out.push('dns');
    },
    latency(e) {
      const r = e.record as DnsRecord;
      return r.request !== undefined && r.response !== undefined ? e.elapsed_time : undefined;
    },
  },
});
