/** How HTTP/1.x records are stored, shown, summarised, cut, redacted and counted. */
import { BODY, kindField, opt, req, type Field } from '../../../entry/row-schema.ts';
import { normalizePath } from '../../../util/normalize.ts';
import { recordView, type RedactKit, type StatusClass } from '../types.ts';
import type { HttpRecord, HttpRequest, HttpResponse } from './record.ts';

const REQUEST_ROW: readonly Field[] = [
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

const RESPONSE_ROW: readonly Field[] = [
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

/** HTTP status classes (RFC 9110 §15). */
export function httpStatusClass(s: number): StatusClass {
  if (s >= 500) return 'server';
  if (s >= 400) return 'client';
  if (s >= 300) return 'redirect';
  if (s >= 100) return 'ok';
  return 'none';
}

/**
 * gRPC status of an HTTP exchange whose content type is `application/grpc…`: the `grpc-status`
 * trailer, or the header of a trailers-only reply. Undefined when not gRPC or not present.
 */
function grpcStatusOf(r: HttpRecord): number | undefined {
  const res = r.response;
  if (res === undefined) return undefined;
  // gRPC runs over HTTP/2 only. Checking the version first keeps HTTP/1 calls from reading
  // headers, which the store keeps out of its summary rows (a disk read per call).
  const version = r.request?.httpVersion ?? res.httpVersion;
  if (version.startsWith('HTTP/1') || version.startsWith('HTTP/0')) return undefined;
  const ct = r.request?.headers['content-type'] ?? res.headers['content-type'] ?? '';
  if (!ct.toLowerCase().startsWith('application/grpc')) return undefined;
  const raw = res.trailers?.['grpc-status'] ?? res.headers['grpc-status'];
  if (raw === undefined) return undefined;
  const n = Number.parseInt(raw, 10);
  return Number.isNaN(n) ? undefined : n;
}

/** Cookie maps come from these headers: a secret cookie header redacts the whole map. */
const COOKIE_HEADER = { request: 'cookie', response: 'set-cookie' } as const;

function redactMessage(
  msg: HttpRequest | HttpResponse,
  side: 'request' | 'response',
  kit: RedactKit,
): void {
  // The content type is read before the headers are redacted (it is never a secret anyway).
  const contentType = msg.headers['content-type'];
  kit.headerMap(msg.headers, `${side}.headers`);
  kit.headerList(msg.headersList, `${side}.headers`);
  kit.headerMap(msg.trailers, `${side}.trailers`);
  if (kit.secretHeader(COOKIE_HEADER[side])) kit.allValues(msg.cookies, `${side}.cookies`);
  if (side === 'request') kit.url(msg as HttpRequest);
  kit.body(msg.body, contentType, `${side}.body`);
}

export const httpView = recordView<HttpRecord>({
  kind: 'http',
  store: {
    code: 0,
    fields: [
      kindField('http'),
      { t: 'obj', key: 'request', opt: true, fields: REQUEST_ROW, skip: true },
      { t: 'obj', key: 'response', opt: true, fields: RESPONSE_ROW, skip: true },
    ],
  },
  summary: (r) => (r.request ? `${r.request.method} ${r.request.url}` : '(response only)'),
  // An HTTP/0.9 response has no status line: no code (as in Wireshark), not a 0.
  statusText: (r, e) =>
    r.response
      ? r.response.statusCode > 0
        ? String(r.response.statusCode)
        : ''
      : e.error
        ? e.error.code.replace(/^KS_/, '')
        : '',
  status: (r) => (r.response && r.response.statusCode > 0 ? r.response.statusCode : undefined),
  statusClass: httpStatusClass,
  listed: (r) => (r.request ? { method: r.request.method, path: r.request.path } : {}),
  timed: true,
  details: (r) => ({
    request: r.request && { msg: r.request, ts: r.request.ts },
    response: r.response && { msg: r.response, ts: r.response.ts },
  }),
  cutBodies(r, cut) {
    const rec = { ...r };
    if (rec.request) rec.request = { ...rec.request, body: cut(rec.request.body) };
    if (rec.response) rec.response = { ...rec.response, body: cut(rec.response.body) };
    return rec;
  },
  redact(r, kit) {
    if (r.request) redactMessage(r.request, 'request', kit);
    if (r.response) redactMessage(r.response, 'response', kit);
  },
  stats: {
    endpoint(e) {
      const r = e.record as HttpRecord;
      if (r.request === undefined) return { method: '', path: '(no request)' };
      return { method: r.request.method, path: normalizePath(r.request.path) };
    },
    classify(e, out) {
      const r = e.record as HttpRecord;
      const code = r.response?.statusCode;
      if (code !== undefined) {
        if (code >= 500) out.push('http_5xx');
        else if (code >= 400) out.push('http_4xx');
      }
      const g = grpcStatusOf(r);
      if (g !== undefined && g !== 0) out.push('grpc');
    },
    latency(e) {
      const r = e.record as HttpRecord;
      return r.request !== undefined && r.response !== undefined ? e.elapsed_time : undefined;
    },
  },
});
