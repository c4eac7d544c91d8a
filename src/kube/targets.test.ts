/**
 * Pod targeting: the selection (regex, namespaces, exclusions, hostNetwork), and the
 * exactly-once rule as a property over random pod placements and flows: a flow touching a
 * targeted pod is kept by exactly one node (the server's if it is targeted, else the client's),
 * any other flow by none; and deciding from the identity table's history gives the same answer
 * as deciding from the current pod list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KubeIdentityTable, type KubeObject } from '../enrich/kube-table.ts';
import type { Entry } from '../entry/model.ts';
import {
  currentLocator,
  flowFilter,
  historyLocator,
  keepFlow,
  selects,
  targetSelection,
  targetedPods,
} from './targets.ts';

interface P {
  name: string;
  ns: string;
  node: string;
  hostNetwork: boolean;
  phase: string;
}

const NODES = ['n1', 'n2', 'n3'];
const nodeIp = (n: string): string => `192.168.0.${NODES.indexOf(n) + 1}`;

function podObj(p: P, i: number): KubeObject {
  const ip = p.hostNetwork ? nodeIp(p.node) : `10.0.${i >> 8}.${i & 255}`;
  return {
    metadata: { name: p.name, namespace: p.ns, uid: `u${i}` },
    spec: { nodeName: p.node, ...(p.hostNetwork && { hostNetwork: true }) },
    status: { phase: p.phase, podIP: ip, podIPs: [{ ip }] },
  };
}

test('selection: regex searched, namespaces, exclusions win, hostNetwork and finished pods never', () => {
  const sel = targetSelection({
    regex: 'api|web',
    namespaces: ['a', 'b'],
    excludedNamespaces: ['b'],
  });
  assert.equal(selects(sel, 'my-web-1', 'a'), true);
  assert.equal(selects(sel, 'db', 'a'), false);
  assert.equal(selects(sel, 'web', 'b'), false, 'excluded wins');
  assert.equal(selects(sel, 'web', 'c'), false, 'not in tap.namespaces');
  assert.equal(selects(targetSelection({}), 'anything', 'any'), true, 'defaults: all');
  assert.throws(() => targetSelection({ regex: '(' }), /tap\.regex/);
  const own = { 'app.kubernetes.io/instance': 'ks', 'app.kubernetes.io/managed-by': 'kubeshark' };
  const withRelease = targetSelection({ release: 'ks' });
  assert.equal(selects(withRelease, 'ks-hub', 'default', own), false, "the release's own pods");
  assert.equal(
    selects(withRelease, 'ks-hub', 'default', { ...own, 'app.kubernetes.io/instance': 'x' }),
    true,
  );
  const t = new KubeIdentityTable();
  t.resync(
    'Pod',
    [
      {
        metadata: { name: 'ks-hub', namespace: 'default', labels: own },
        spec: { nodeName: 'n1' },
        status: { phase: 'Running', podIP: '10.5.0.1' },
      },
    ],
    10,
  );
  const byRelease = historyLocator((ip, ts) => t.podAt(ip, ts), withRelease);
  assert.equal(byRelease('10.5.0.1', 20), undefined);
  assert.equal(
    historyLocator((ip, ts) => t.podAt(ip, ts), targetSelection({}))('10.5.0.1', 20),
    'n1',
  );
  const pods = [
    podObj({ name: 'web', ns: 'a', node: 'n1', hostNetwork: false, phase: 'Running' }, 1),
    podObj({ name: 'web-h', ns: 'a', node: 'n1', hostNetwork: true, phase: 'Running' }, 2),
    podObj({ name: 'web-done', ns: 'a', node: 'n2', hostNetwork: false, phase: 'Succeeded' }, 3),
    podObj({ name: 'api', ns: 'a', node: 'n2', hostNetwork: false, phase: 'Pending' }, 4),
    { metadata: { name: 'web-noip', namespace: 'a' }, spec: {}, status: { phase: 'Pending' } },
  ];
  assert.deepEqual(targetedPods(pods, sel), [
    { name: 'api', namespace: 'a', node: 'n2', ips: ['10.0.0.4'] },
    { name: 'web', namespace: 'a', node: 'n1', ips: ['10.0.0.1'] },
  ]);
});

test('keepFlow: the rule', () => {
  assert.equal(keepFlow('n1', 'n1', 'n2'), false, 'server targeted elsewhere');
  assert.equal(keepFlow('n2', 'n1', 'n2'), true);
  assert.equal(keepFlow('n1', 'n1', undefined), true, 'server not targeted');
  assert.equal(keepFlow('n1', undefined, 'n1'), true);
  assert.equal(keepFlow('n1', 'n1', 'n1'), true, 'same node');
  assert.equal(keepFlow('n1', undefined, undefined), false, 'no targeted pod');
});

const podArb: fc.Arbitrary<P> = fc.record({
  name: fc.constantFrom('web', 'web-2', 'api', 'db', 'cache-web'),
  ns: fc.constantFrom('a', 'b', 'c'),
  node: fc.constantFrom(...NODES),
  hostNetwork: fc.constantFrom(false, false, false, true),
  phase: fc.constantFrom('Running', 'Running', 'Running', 'Pending', 'Failed'),
});

test('exactly once across nodes, for random placements, selections and flows', () => {
  fc.assert(
    fc.property(
      fc.array(podArb, { minLength: 1, maxLength: 30 }),
      fc.constantFrom('.*', '^web', 'api|db', 'web$', 'zzz'),
      fc.subarray(['a', 'b', 'c']),
      fc.subarray(['a', 'b', 'c']),
      fc.array(fc.tuple(fc.nat(40), fc.nat(40)), { minLength: 1, maxLength: 40 }),
      (specs, regex, namespaces, excluded, pairs) => {
        // Names made unique per namespace (as the API server enforces).
        const seen = new Set<string>();
        const ps = specs.filter((p) => {
          const k = `${p.ns}/${p.name}`;
          if (seen.has(k)) return false;
          seen.add(k);
          return true;
        });
        const objs = ps.map(podObj);
        const sel = targetSelection({ regex, namespaces, excludedNamespaces: excluded });
        const locate = currentLocator(targetedPods(objs, sel));
        const table = new KubeIdentityTable();
        const ts = 1_000_000;
        table.resync('Pod', objs, ts);
        const fromHistory = historyLocator((ip, t) => table.podAt(ip, t), sel);
        // Independent oracle: which IPs are targeted pods, and where.
        const oracle = new Map<string, string>();
        ps.forEach((p, i) => {
          const targeted =
            !p.hostNetwork &&
            p.phase !== 'Failed' &&
            !excluded.includes(p.ns) &&
            (namespaces.length === 0 || namespaces.includes(p.ns)) &&
            new RegExp(regex).test(p.name);
          if (targeted) oracle.set(ipOf(objs[i]!), p.node);
        });
        const ips = [...objs.map(ipOf), ...NODES.map(nodeIp), '8.8.8.8', '10.96.0.10'];
        for (const [ci, si] of pairs) {
          const client = ips[ci % ips.length]!;
          const server = ips[si % ips.length]!;
          const e = {
            src: { ip: client, port: 40000 },
            dst: { ip: server, port: 80 },
            timestamp: ts + 5,
            transport: 'tcp',
          } as Entry;
          const keepers = NODES.filter((n) => flowFilter(n, locate)(e));
          const byHistory = NODES.filter((n) => flowFilter(n, fromHistory)(e));
          assert.deepEqual(byHistory, keepers, 'history and current state agree');
          const cs = oracle.get(client);
          const ss = oracle.get(server);
          if (cs === undefined && ss === undefined) assert.deepEqual(keepers, []);
          else assert.deepEqual(keepers, [ss ?? cs], `${client} -> ${server}`);
        }
      },
    ),
    { numRuns: 300 },
  );
});

function ipOf(o: KubeObject): string {
  return (o.status as { podIP: string }).podIP;
}
