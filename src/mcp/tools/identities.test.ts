/**
 * list_ips / list_workloads read identities back from the KFL view (`view=full`): the same
 * precedence as KFL's `src.name` (pod, else service, else DNS name, else process), with the
 * process read from `local_process_name` / `remote_process_name` where the view carries it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { T0, tcpConn } from '../../../test/helpers/query-entries.ts';
import type { Endpoint } from '../../entry/model.ts';
import { buildView } from '../../tap/records.ts';
import { viewIdentity } from './identities.ts';

const view = buildView();
const pod = { name: 'cart-7f9c', namespace: 'shop' };
const service = { name: 'cart', namespace: 'shop' };
const dns = 'cart.shop.svc.cluster.local';
const proc = { name: 'nginx', pid: 42 };

/** The KFL view of a TCP connection record between `src` and `dst`. */
const viewOf = (src: Endpoint, dst: Endpoint): Record<string, unknown> =>
  JSON.parse(view.json({ ...tcpConn(), src, dst })) as Record<string, unknown>;

test('viewIdentity: pod, else service, else DNS name, else process, else unresolved', () => {
  const cases: [Omit<Endpoint, 'ip' | 'port'>, string, string | null, string | null][] = [
    [{ pod, service, dns, process: proc }, 'pod', 'cart-7f9c', 'shop'],
    [{ service, dns, process: proc }, 'service', 'cart', 'shop'],
    [{ dns, process: proc }, 'dns', dns, null],
    [{ process: proc }, 'process', 'nginx', null],
    [{}, 'unresolved', null, null],
  ];
  for (const [who, type, name, namespace] of cases) {
    const other: Endpoint = { ip: '10.9.9.9', port: 80 };
    for (const side of ['src', 'dst'] as const) {
      const ep: Endpoint = { ip: '10.0.0.1', port: 8080, ...who };
      const v = side === 'src' ? viewOf(ep, other) : viewOf(other, ep);
      const id = viewIdentity(v, side, T0);
      assert.deepEqual(
        [id?.ip, id?.type, id?.name, id?.namespace],
        ['10.0.0.1', type, name, namespace],
        `${side} ${JSON.stringify(who)}`,
      );
    }
  }
});
