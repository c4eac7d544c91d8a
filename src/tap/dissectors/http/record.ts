/** The record of a http entry (a member of entry/model.ts `L7Record`). */
import type { Body } from '../../../entry/model.ts';

export interface HttpRequest {
  method: string;
  /** Request-target as sent (path + query, or absolute-form). */
  url: string;
  path: string;
  /** Parsed query string; repeated keys joined with ",". */
  query: Record<string, string>;
  httpVersion: string; // "HTTP/1.1"
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Headers as sent, in order, original case. */
  headersList: [string, string][];
  cookies: Record<string, string>;
  headersSize: number;
  body: Body;
  trailers?: Record<string, string>;
  /** Capture time of the first byte of this request. */
  ts: number;
}

export interface HttpResponse {
  statusCode: number;
  statusText: string;
  httpVersion: string;
  headers: Record<string, string>;
  headersList: [string, string][];
  cookies: Record<string, string>;
  headersSize: number;
  body: Body;
  trailers?: Record<string, string>;
  /** Interim 1xx responses seen before this final one. */
  informational?: { statusCode: number; statusText: string; ts: number }[];
  ts: number;
}

export interface HttpRecord {
  kind: 'http';
  request?: HttpRequest;
  response?: HttpResponse;
}

declare module '../../../entry/model.ts' {
  interface L7Records {
    http: HttpRecord;
  }
}
