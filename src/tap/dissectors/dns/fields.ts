/**
 * KFL fields of DNS entries (../shared/KFL.md, DNS group). Request and response merge preferring
 * the request side; `dns_total_size` is request + response.
 */
import type { FieldDef } from '../../../entry/fields.ts';
import type { Entry } from '../../../entry/model.ts';
import type { DnsRecord } from './record.ts';

const dns = (e: Entry): DnsRecord | undefined => (e.record.kind === 'dns' ? e.record : undefined);

/**
 * `status_code` of a DNS entry: the response RCODE (with the EDNS extended bits), undefined when
 * there is no response. Declared below as this catalogue's `status_code`; the registry merges it
 * with HTTP's (first getter that applies wins), and any other `status_code` getter must delegate to
 * this for DNS entries.
 */
export function dnsStatusCode(e: Entry): number | undefined {
  return dns(e)?.response?.rcodeNumber;
}

export const dnsFields: readonly FieldDef[] = [
  {
    name: 'dns',
    type: 'bool',
    doc: 'a DNS call (query and/or response)',
    get: (e) => e.protocol === 'dns' || undefined,
  },
  {
    name: 'dns_questions',
    type: 'list<string>',
    doc: 'question names (`api.default.svc.cluster.local`), from the query, else the response',
    get: (e) => {
      const d = dns(e);
      return (d?.request ?? d?.response)?.questions.map((q) => q.name);
    },
  },
  {
    name: 'dns_answers',
    type: 'list<string>',
    doc: 'answer-section data in presentation form: addresses, CNAME/PTR targets, MX `pref host`, TXT text',
    get: (e) => dns(e)?.response?.answers.map((a) => a.data),
  },
  {
    name: 'dns_question_types',
    type: 'list<string>',
    doc: 'question types (`A`, `AAAA`, `SRV`, `HTTPS`…), from the query, else the response',
    get: (e) => {
      const d = dns(e);
      return (d?.request ?? d?.response)?.questions.map((q) => q.type);
    },
  },
  {
    name: 'dns_request',
    type: 'bool',
    doc: 'the query was captured',
    get: (e) => dns(e)?.request !== undefined || undefined,
  },
  {
    name: 'dns_response',
    type: 'bool',
    doc: 'the response was captured',
    get: (e) => dns(e)?.response !== undefined || undefined,
  },
  {
    name: 'dns_request_length',
    type: 'int',
    doc: 'bytes of the query message',
    get: (e) => dns(e)?.request?.length,
  },
  {
    name: 'dns_response_length',
    type: 'int',
    doc: 'bytes of the response message',
    get: (e) => dns(e)?.response?.length,
  },
  {
    name: 'dns_total_size',
    type: 'int',
    doc: 'query + response bytes',
    get: (e) => {
      const d = dns(e);
      return d ? (d.request?.length ?? 0) + (d.response?.length ?? 0) : undefined;
    },
  },
  {
    name: 'status_code',
    type: 'int',
    doc: 'DNS: the response RCODE (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED…)',
    get: dnsStatusCode,
  },
];
