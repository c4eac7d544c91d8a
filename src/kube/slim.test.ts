/**
 * The identity informers' slim objects answer exactly as the full objects: every lookup over the
 * fixtures' IPs and ports (and a few unknown ones) is the same whether the table was fed full
 * kubectl-shaped objects or `slimIdentityObject` of them — except that kubectl's
 * last-applied-configuration annotation (a copy of the object) is gone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeIdentityTable, type KubeKind, type KubeObject } from '../enrich/kube-table.ts';
import { LAST_APPLIED_ANNOTATION, slimIdentityObject } from './slim.ts';

const DATA = new URL('../enrich/testdata/kube/', import.meta.url).pathname;
const FILES: [KubeKind, string][] = [
  ['Node', 'nodes.json'],
  ['Pod', 'pods.json'],
  ['Service', 'services.json'],
  ['EndpointSlice', 'endpointslices.json'],
];
const T0 = Date.parse('2026-11-21T15:00:00Z') * 1000;

function items(file: string): KubeObject[] {
  return (JSON.parse(readFileSync(join(DATA, file), 'utf8')) as { items: KubeObject[] }).items;
}

function table(map: (o: KubeObject) => KubeObject): KubeIdentityTable {
  const t = new KubeIdentityTable();
  for (const [kind, file] of FILES) t.resync(kind, items(file).map(map), T0);
  return t;
}

/** Every address and port that appears anywhere in the fixtures. */
function probes(): { ip: string; port: number }[] {
  const text = FILES.map(([, f]) => readFileSync(join(DATA, f), 'utf8')).join('\n');
  const ips = new Set([...text.matchAll(/"(\d+\.\d+\.\d+\.\d+)"/g)].map((m) => m[1]!));
  ips.add('192.0.2.1');
  const ports = new Set([...text.matchAll(/"(?:port|containerPort)": (\d+)/g)].map((m) => +m[1]!));
  ports.add(1);
  return [...ips].flatMap((ip) => [...ports].map((port) => ({ ip, port })));
}

const withoutLastApplied = (o: KubeObject): KubeObject => {
  const c = structuredClone(o);
  if (c.metadata?.annotations) delete c.metadata.annotations[LAST_APPLIED_ANNOTATION];
  if (c.metadata?.annotations && Object.keys(c.metadata.annotations).length === 0)
    delete c.metadata.annotations;
  return c;
};

test('slim identity objects resolve exactly as the full objects', () => {
  const full = table(withoutLastApplied);
  const slim = table((o) => slimIdentityObject(o) as KubeObject);
  const all = probes();
  assert.ok(all.length > 50, `${all.length} probes`);
  let resolved = 0;
  for (const { ip, port } of all) {
    for (const transport of ['tcp', 'udp'] as const) {
      const a = full.lookup(ip, port, transport, T0 + 1);
      const b = slim.lookup(ip, port, transport, T0 + 1);
      assert.deepEqual(b, a, `${ip}:${port}/${transport}`);
      if (a) resolved++;
    }
    assert.deepEqual(slim.podAt(ip, T0 + 1), full.podAt(ip, T0 + 1), ip);
  }
  assert.ok(resolved > 10, `${resolved} lookups resolved: the probes reach real identities`);
});

test('slim objects are much smaller and never carry last-applied-configuration', () => {
  for (const [, file] of FILES) {
    for (const o of items(file)) {
      const withCopy = structuredClone(o);
      withCopy.metadata = {
        ...withCopy.metadata,
        annotations: {
          ...withCopy.metadata?.annotations,
          [LAST_APPLIED_ANNOTATION]: JSON.stringify(o),
        },
      };
      const s = slimIdentityObject(withCopy) as KubeObject;
      assert.equal(s.metadata?.annotations?.[LAST_APPLIED_ANNOTATION], undefined);
      assert.equal(s.metadata?.name, o.metadata?.name);
      assert.ok(JSON.stringify(s).length < JSON.stringify(withCopy).length / 1.5, file);
    }
  }
});
