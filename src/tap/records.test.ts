/**
 * A protocol is one folder under src/tap/dissectors/ plus one line in its registry: everything
 * else (store rows, JSON view details, summaries, status and colours, payload cutting, redaction,
 * statistics, query hints, the default config) is derived from its `Dissector` and `RecordView`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildCatalogue, dissectors } from './dissectors/registry.ts';
import { recordViews, viewOf } from './records.ts';
import { schema } from '../config/schema.ts';
import type { Entry } from '../entry/model.ts';

const src = new URL('..', import.meta.url).pathname;

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'testdata') walk(p, out);
    } else if (/\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name)) out.push(p);
  }
  return out;
}

test('record kinds and their store codes are unique; the codes written to disk never change', () => {
  const kinds = recordViews.map((v) => v.kind);
  assert.equal(new Set(kinds).size, kinds.length);
  const codes = recordViews.map((v) => v.store.code);
  assert.equal(new Set(codes).size, codes.length);
  for (const c of codes) assert.ok(Number.isInteger(c) && c >= 0 && c < 256, `code ${c}`);
  const fixed: Record<string, number> = { http: 0, ws: 1, dns: 2, tcp_conn: 3, udp_flow: 4 };
  for (const v of recordViews) if (v.kind in fixed) assert.equal(v.store.code, fixed[v.kind]);
  for (const v of recordViews) {
    assert.deepEqual(v.store.fields[0], { t: 'kind', key: 'kind', value: v.kind }, v.kind);
  }
});

test('no production file outside a dissector folder switches on a protocol id', () => {
  const ids = dissectors.map((d) => d.id);
  const alt = ids.join('|');
  // `kind === 'http'`, `protocol !== "dns"`, `case 'ws':`, `{ http: …` keyed tables.
  const patterns = [
    new RegExp(`(kind|protocol)\\s*[!=]==?\\s*['"](${alt})['"]`),
    new RegExp(`['"](${alt})['"]\\s*[!=]==?\\s*[\\w.]*(kind|protocol)\\b`),
    new RegExp(`case\\s+['"](${alt})['"]\\s*:`),
  ];
  const allowed = (p: string) =>
    ids.some((id) => p.startsWith(`tap/dissectors/${id}/`)) ||
    // The dashboard's per-protocol message views: one file each, one line in their index.
    p.startsWith('front/app/protocols/');
  const offenders: string[] = [];
  for (const file of walk(src)) {
    const rel = relative(src, file);
    if (allowed(rel)) continue;
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (patterns.some((re) => re.test(line)))
        offenders.push(`src/${rel}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offenders, []);
});

test('the config enables by default exactly the dissectors that say so', () => {
  const tap = schema.children.tap;
  assert.ok(tap && tap.kind === 'group');
  const leaf = tap.children.enabledDissectors;
  assert.ok(leaf && leaf.kind === 'leaf');
  assert.deepEqual(
    leaf.default,
    dissectors.filter((d) => d.enabledByDefault).map((d) => d.id),
  );
});

test('record views: HTTP and DNS statuses and their colours, one-way messages untimed', () => {
  const view = (protocol: string, kind: string) =>
    viewOf({ protocol, record: { kind } } as unknown as Entry);
  const http = view('http', 'http');
  assert.deepEqual(
    [101, 200, 304, 404, 503].map((s) => http.statusClass(s)),
    ['ok', 'ok', 'redirect', 'client', 'server'],
  );
  const dns = view('dns', 'dns');
  assert.deepEqual(
    [0, 3, 2, 5].map((s) => dns.statusClass(s)),
    ['ok', 'client', 'server', 'server'],
  );
  assert.equal(view('ws', 'ws').timed, false);
  assert.equal(view('tcp', 'tcp_conn').kind, 'tcp_conn');
  assert.equal(view('udp', 'udp_flow').kind, 'udp_flow');
  // A protocol that reuses another's record (gRPC on HTTP's) finds that record's view.
  assert.equal(view('grpc-test', 'http').kind, 'http');
});

test("each dissector's protocol flag is true exactly for entries of that protocol (query hints rely on it)", () => {
  const flags = new Map(buildCatalogue().map((f) => [f.name, f]));
  const kinds = recordViews.map((v) => v.kind);
  for (const d of dissectors) {
    const flag = flags.get(d.id);
    assert.ok(flag && flag.type === 'bool', `${d.id} flag`);
    for (const protocol of [...dissectors.map((x) => x.id), 'tcp', 'udp', 'grpc-test']) {
      for (const kind of kinds) {
        const e = { protocol, record: { kind } } as unknown as Entry;
        assert.equal(flag.get(e) === true, protocol === d.id, `${d.id} on ${protocol}/${kind}`);
      }
    }
  }
});
