/** KFL fields of HTTP/1.x entries (names and types exactly as KFL2: ../../../../../shared/KFL.md). */
import type { FieldDef } from '../../../entry/fields.ts';
import type { Entry } from '../../../entry/model.ts';
import type { HttpRecord } from './record.ts';

function http(e: Entry): HttpRecord | undefined {
  return e.record.kind === 'http' ? e.record : undefined;
}

export const httpFields: readonly FieldDef[] = [
  {
    name: 'http',
    type: 'bool',
    doc: 'The entry is an HTTP/1.x request/response pair.',
    get: (e) => (e.protocol === 'http' ? true : undefined),
  },
  {
    name: 'method',
    type: 'string',
    doc: 'Request method, e.g. GET.',
    get: (e) => http(e)?.request?.method,
  },
  {
    name: 'url',
    type: 'string',
    doc:
      'Request target as sent: path and query (absolute URL when sent to a proxy); empty when ' +
      'the request line has none.',
    get: (e) => http(e)?.request?.url,
  },
  {
    name: 'path',
    type: 'string',
    doc: 'Request path without the query string.',
    get: (e) => http(e)?.request?.path,
  },
  {
    name: 'http_version',
    type: 'string',
    doc:
      'Protocol version, e.g. HTTP/1.1 (the request’s, else the response’s); as sent when malformed ' +
      '(e.g. HTTP/1.), HTTP/0.9 for a request line without a version.',
    get: (e) => {
      const r = http(e);
      return r?.request?.httpVersion ?? r?.response?.httpVersion;
    },
  },
  {
    name: 'status_code',
    type: 'int',
    doc:
      'HTTP response status code; absent for an HTTP/0.9 response (a bare body without a status ' +
      'line: as in Wireshark, no code; the record keeps statusCode 0).',
    get: (e) => {
      const code = http(e)?.response?.statusCode;
      return code === 0 ? undefined : code;
    },
  },
  {
    name: 'query_string',
    type: 'map<string,string>',
    doc: 'Query parameters, percent-decoded; repeated keys joined with ",".',
    get: (e) => http(e)?.request?.query,
  },
  {
    name: 'request.headers',
    type: 'map<string,string>',
    doc: 'Request headers by lower-case name; repeated headers joined with ", ".',
    get: (e) => http(e)?.request?.headers,
  },
  {
    name: 'response.headers',
    type: 'map<string,string>',
    doc: 'Response headers by lower-case name; repeated headers joined with ", ".',
    get: (e) => http(e)?.response?.headers,
  },
  {
    name: 'request.cookies',
    type: 'map<string,string>',
    doc: 'Cookies sent in the Cookie header (name → value).',
    get: (e) => http(e)?.request?.cookies,
  },
  {
    name: 'response.cookies',
    type: 'map<string,string>',
    doc: 'Cookies set by Set-Cookie headers (name → value, attributes dropped).',
    get: (e) => http(e)?.response?.cookies,
  },
  {
    name: 'request_headers_size',
    type: 'int',
    doc: 'Bytes of the request line and headers, blank line included.',
    get: (e) => http(e)?.request?.headersSize,
  },
  {
    name: 'request_body_size',
    type: 'int',
    doc: 'Bytes of the request body on the wire (de-chunked, before decompression).',
    get: (e) => http(e)?.request?.body.size,
  },
  {
    name: 'response_headers_size',
    type: 'int',
    doc: 'Bytes of the status line and headers, blank line included.',
    get: (e) => http(e)?.response?.headersSize,
  },
  {
    name: 'response_body_size',
    type: 'int',
    doc: 'Bytes of the response body on the wire (de-chunked, before decompression).',
    get: (e) => http(e)?.response?.body.size,
  },
];
