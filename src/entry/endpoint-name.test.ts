import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tcpConn } from '../../test/helpers/query-entries.ts';
import { summarize } from '../api/summary.ts';
import { commonFields } from './common-fields.ts';
import { endpointIdentity, endpointName } from './endpoint-name.ts';
import type { Endpoint, Entry } from './model.ts';

const pod = { name: 'cart-7f9c', namespace: 'shop' };
const service = { name: 'cart', namespace: 'shop' };
const dns = 'cart.shop.svc.cluster.local';
const proc = { name: 'nginx', pid: 42 };

test('endpointIdentity: pod, else service, else DNS name, else process, else nothing', () => {
  assert.deepEqual(endpointIdentity({ pod, service, dns, process: proc }), {
    kind: 'pod',
    name: 'cart-7f9c',
  });
  assert.deepEqual(endpointIdentity({ service, dns, process: proc }), {
    kind: 'service',
    name: 'cart',
  });
  assert.deepEqual(endpointIdentity({ dns, process: proc }), { kind: 'dns', name: dns });
  assert.deepEqual(endpointIdentity({ process: proc }), { kind: 'process', name: 'nginx' });
  assert.equal(endpointIdentity({}), undefined);
  // An empty name is no name: the next step decides.
  assert.deepEqual(endpointIdentity({ pod: { name: '' }, service, dns: '' }), {
    kind: 'service',
    name: 'cart',
  });
  assert.equal(endpointIdentity({ dns: '', process: { name: '' } }), undefined);
});

test('endpointName: the same steps, then the name a resolver gave alone (a node), else none', () => {
  assert.equal(endpointName({ pod, service, dns, process: proc, name: 'x' }), 'cart-7f9c');
  assert.equal(endpointName({ service, dns, process: proc, name: 'x' }), 'cart');
  assert.equal(endpointName({ dns, process: proc, name: 'x' }), dns);
  assert.equal(endpointName({ process: proc, name: 'node-a' }), 'nginx');
  assert.equal(endpointName({ name: 'node-a' }), 'node-a');
  assert.equal(endpointName({ name: '' }), undefined);
  assert.equal(endpointName({}), undefined);
});

/** A TCP connection record between `src` and `dst`. */
const entry = (src: Endpoint, dst: Endpoint): Entry => ({ ...tcpConn(), src, dst });

test('KFL src.name / dst.name and the API summary name an endpoint alike', () => {
  const field = (name: string) => commonFields.find((f) => f.name === name)!;
  const endpoints: Endpoint[] = [
    { ip: '10.0.0.1', port: 1, name: 'cart-7f9c', pod, service, dns, process: proc },
    { ip: '10.0.0.2', port: 2, name: 'cart', service, dns, process: proc },
    // A service and a DNS name but no pod: the service (as before, everywhere).
    { ip: '10.0.0.3', port: 3, service, dns },
    // A DNS name and a process: the DNS name (the summary showed the process).
    { ip: '10.0.0.4', port: 4, dns, process: proc },
    // A node's address with a process on it: the process (the summary showed the node).
    { ip: '10.0.0.5', port: 5, name: 'node-a', process: proc },
    { ip: '10.0.0.6', port: 6, name: 'node-a' },
    { ip: '10.0.0.7', port: 7 },
  ];
  const want = ['cart-7f9c', 'cart', 'cart', dns, 'nginx', 'node-a', undefined];
  endpoints.forEach((ep, i) => {
    const other: Endpoint = { ip: '10.9.9.9', port: 80 };
    const e = entry(ep, other);
    assert.equal(field('src.name').get(e), want[i], `src.name ${ep.ip}`);
    assert.equal(summarize(e).src.name, want[i], `summary src ${ep.ip}`);
    const r = entry(other, ep);
    assert.equal(field('dst.name').get(r), want[i], `dst.name ${ep.ip}`);
    assert.equal(summarize(r).dst.name, want[i], `summary dst ${ep.ip}`);
  });
});
