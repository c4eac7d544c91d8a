/**
 * The captures behind the golden files, counted by tshark at test time: our HTTP
 * request/response, DNS query/response and WebSocket frame counts must equal tshark's, so the
 * goldens are anchored on an independent dissector and not only on themselves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dissectViews } from './helpers/dissect.ts';
import { countCalls, type Counts } from './helpers/counts.ts';
import { dissectorTestCaptures } from './helpers/dissector-captures.ts';

let tshark = true;
try {
  execFileSync('tshark', ['--version'], { stdio: 'ignore' });
} catch {
  tshark = false;
}

/** Explained differences (ours = tshark + delta). */
const DIFFERENCES: Record<string, { delta: Partial<Counts>; why: string }> = {
  'http/odd-request-lines': {
    delta: { httpRequests: +4, httpResponses: +1 },
    why: 'tshark does not take "GET\\t/tabs\\tHTTP/1.1", "get /lower HTTP/1.1" or "FOO /x HTTP/1.1" for requests (it knows exact upper-case methods separated by single spaces), so their 400 answers have no request; and it never finishes the HTTP/0.9 "GET /legacy.html" (it waits for headers) nor counts its bare body as a response. We pair each with the answer the server gave.',
  },
  'http/continue-100': {
    delta: { httpRequests: +1 },
    why:
      'The refused PUT (Expect: 100-continue answered 417) announces a body that is never sent; tshark waits ' +
      'for it and never shows the request. We emit the call, answered by the 417, flagged KS_TRUNCATED.',
  },
};

const FIELDS = [
  'http.request.method',
  'http.response.code',
  'dns.flags.response',
  'websocket.opcode',
] as const;
type Field = (typeof FIELDS)[number];

/**
 * Every value tshark gives each field in the capture, in one pass (one column per field, a
 * field's occurrences in a packet joined by commas).
 */
function tsharkValues(file: string): Record<Field, string[]> {
  const out = execFileSync(
    'tshark',
    ['-r', file, '-T', 'fields', ...FIELDS.flatMap((f) => ['-e', f])],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 256 * 1024 * 1024,
    },
  ).toString();
  const values = Object.fromEntries(FIELDS.map((f) => [f, [] as string[]])) as Record<
    Field,
    string[]
  >;
  for (const line of out.split('\n')) {
    const columns = line.split('\t');
    FIELDS.forEach((f, i) => {
      const v = columns[i] ?? '';
      if (v !== '') values[f].push(...v.split(','));
    });
  }
  return values;
}

function count(values: Record<Field, string[]>, field: Field, match?: string): number {
  return values[field].filter((v) => match === undefined || v === match).length;
}

for (const c of dissectorTestCaptures()) {
  const name = `${c.proto}/${c.name}`;
  test(
    `testdata ${name}: counts match tshark`,
    { skip: !tshark && 'tshark not installed' },
    async () => {
      const file = c.file;
      const r = await dissectViews([file]);
      assert.equal(r.error, undefined);
      const d = DIFFERENCES[name]?.delta ?? {};
      const t = tsharkValues(file);
      const want: Counts = {
        httpRequests: count(t, 'http.request.method') + (d.httpRequests ?? 0),
        httpResponses: count(t, 'http.response.code') + (d.httpResponses ?? 0),
        dnsQueries:
          count(t, 'dns.flags.response', 'False') +
          count(t, 'dns.flags.response', '0') +
          (d.dnsQueries ?? 0),
        dnsResponses:
          count(t, 'dns.flags.response', 'True') +
          count(t, 'dns.flags.response', '1') +
          (d.dnsResponses ?? 0),
        wsFrames: count(t, 'websocket.opcode') + (d.wsFrames ?? 0),
      };
      assert.deepEqual(countCalls(r.views), want, DIFFERENCES[name]?.why ?? 'no known difference');
    },
  );
}
