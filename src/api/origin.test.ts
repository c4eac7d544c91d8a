import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig, setKey } from '../config/load.ts';
import {
  LOCAL_POLICY,
  accessPolicyOf,
  checkAccess,
  hostAllowed,
  isTrustedProxy,
  originAllowed,
  splitHost,
  type AccessPolicy,
  type AccessRequest,
} from './origin.ts';

const policy: AccessPolicy = {
  allowedHosts: ['shark.example.com', '*.corp.example'],
  trustedProxies: ['10.0.0.0/8', '192.168.1.7'],
};

test('splitHost: ports, brackets, case, junk', () => {
  assert.deepEqual(splitHost('Example.COM:8080'), { host: 'example.com', port: '8080' });
  assert.deepEqual(splitHost('[::1]:8899'), { host: '::1', port: '8899' });
  assert.deepEqual(splitHost('[fe80::1]'), { host: 'fe80::1', port: '' });
  assert.deepEqual(splitHost('::1'), { host: '::1', port: '' });
  assert.deepEqual(splitHost('localhost.'), { host: 'localhost', port: '' });
  assert.equal(splitHost(''), undefined);
  assert.equal(splitHost('[nothost]:1'), undefined);
  assert.equal(splitHost('a b'), undefined);
  assert.equal(splitHost('x:port'), undefined);
});

test('hostAllowed: IP literals, localhost, the allow-list; not other names', () => {
  for (const h of ['127.0.0.1', '10.1.2.3', '::1', 'localhost', 'app.localhost']) {
    assert.ok(hostAllowed(h, LOCAL_POLICY), h);
  }
  for (const h of ['evil.example', 'localhost.evil.example', 'kubeshark-hub', '127.0.0.1.nip.io']) {
    assert.ok(!hostAllowed(h, LOCAL_POLICY), h);
  }
  assert.ok(hostAllowed('shark.example.com', policy));
  assert.ok(hostAllowed('a.corp.example', policy));
  assert.ok(!hostAllowed('corp.example', policy));
  assert.ok(!hostAllowed('evilcorp.example', policy));
});

test('accessPolicyOf: config lists, and the release services in the cluster', () => {
  const c = defaultConfig();
  setKey(c, 'tap.allowedHosts', 'Shark.Example.com', 'test', true);
  setKey(c, 'tap.release.name', 'ks', 'test', true);
  setKey(c, 'tap.release.namespace', 'mon', 'test', true);
  assert.deepEqual(accessPolicyOf(c).allowedHosts, ['shark.example.com']);
  const inCluster = accessPolicyOf(c, { inCluster: true });
  for (const h of [
    'ks-hub',
    'ks-hub.mon',
    'ks-hub.mon.svc',
    'ks-hub.mon.svc.cluster.local',
    'ks-front.mon.svc',
  ]) {
    assert.ok(hostAllowed(h, inCluster), h);
  }
  assert.ok(!hostAllowed('ks-hub.other.svc', inCluster));
  assert.ok(!hostAllowed('ks-hub', accessPolicyOf(c)));
});

test('originAllowed: same host:port or an allowed name', () => {
  assert.ok(originAllowed('http://127.0.0.1:8899', '127.0.0.1:8899', LOCAL_POLICY));
  assert.ok(originAllowed('http://localhost', 'localhost:80', LOCAL_POLICY));
  assert.ok(originAllowed('http://[::1]:8899', '[::1]:8899', LOCAL_POLICY));
  assert.ok(!originAllowed('http://127.0.0.1:3000', '127.0.0.1:8899', LOCAL_POLICY));
  assert.ok(!originAllowed('http://evil.example', '127.0.0.1:8899', LOCAL_POLICY));
  assert.ok(!originAllowed('null', '127.0.0.1:8899', LOCAL_POLICY));
  assert.ok(originAllowed('https://shark.example.com', '10.0.0.5:8080', policy));
});

test('isTrustedProxy: loopback, listed IPs and CIDRs', () => {
  assert.ok(isTrustedProxy('127.0.0.1', LOCAL_POLICY));
  assert.ok(isTrustedProxy('::ffff:127.0.0.1', LOCAL_POLICY));
  assert.ok(isTrustedProxy('::1', LOCAL_POLICY));
  assert.ok(!isTrustedProxy('10.2.3.4', LOCAL_POLICY));
  assert.ok(isTrustedProxy('10.2.3.4', policy));
  assert.ok(isTrustedProxy('::ffff:192.168.1.7', policy));
  assert.ok(!isTrustedProxy('192.168.1.8', policy));
  assert.ok(!isTrustedProxy(undefined, policy));
});

const req = (over: Partial<AccessRequest> & { h?: AccessRequest['headers'] }): AccessRequest => ({
  method: 'GET',
  upgrade: false,
  remoteAddress: '127.0.0.1',
  headers: { host: '127.0.0.1:8899', ...over.h },
  ...over,
});

test('checkAccess: Host, empty Host, Origin on upgrades and state changes, Sec-Fetch-Site', () => {
  assert.equal(checkAccess(req({}), LOCAL_POLICY).ok, true);
  assert.equal(checkAccess(req({ h: { host: 'evil.example:8899' } }), LOCAL_POLICY).ok, false);
  // No Host: loopback only.
  assert.equal(checkAccess(req({ h: { host: undefined } }), LOCAL_POLICY).ok, true);
  assert.equal(
    checkAccess(req({ h: { host: undefined }, remoteAddress: '10.0.0.9' }), LOCAL_POLICY).ok,
    false,
  );
  const evil = { origin: 'http://evil.example' };
  // A cross-origin GET is answered (the browser keeps the answer from the page)…
  assert.equal(checkAccess(req({ h: evil }), LOCAL_POLICY).ok, true);
  // …but not an upgrade, nor a POST.
  assert.equal(checkAccess(req({ upgrade: true, h: evil }), LOCAL_POLICY).ok, false);
  assert.equal(checkAccess(req({ method: 'POST', h: evil }), LOCAL_POLICY).ok, false);
  const same = { origin: 'http://127.0.0.1:8899' };
  assert.equal(checkAccess(req({ upgrade: true, h: same }), LOCAL_POLICY).ok, true);
  assert.equal(checkAccess(req({ method: 'POST', h: same }), LOCAL_POLICY).ok, true);
  assert.equal(checkAccess(req({ upgrade: true }), LOCAL_POLICY).ok, true);
  assert.equal(
    checkAccess(req({ method: 'POST', h: { 'sec-fetch-site': 'cross-site' } }), LOCAL_POLICY).ok,
    false,
  );
  assert.equal(
    checkAccess(req({ method: 'POST', h: { 'sec-fetch-site': 'same-origin' } }), LOCAL_POLICY).ok,
    true,
  );
});

test('checkAccess: forwarded host only from trusted proxies, and checked', () => {
  const fwd = { 'x-forwarded-host': 'shark.example.com', 'x-forwarded-proto': 'https' };
  const ok = checkAccess(req({ h: fwd }), policy);
  assert.deepEqual(ok, { ok: true, publicBase: 'https://shark.example.com' });
  // An untrusted peer's forwarded headers are ignored.
  const ignored = checkAccess(req({ h: fwd, remoteAddress: '172.16.0.1' }), policy);
  assert.deepEqual(ignored, { ok: true, publicBase: 'http://127.0.0.1:8899' });
  // A trusted proxy forwarding a foreign host is refused.
  const bad = checkAccess(req({ h: { 'x-forwarded-host': 'evil.example' } }), LOCAL_POLICY);
  assert.equal(bad.ok, false);
  // Same origin through the proxy: the forwarded host counts.
  const up = checkAccess(
    req({ upgrade: true, h: { ...fwd, origin: 'https://shark.example.com' } }),
    { ...policy, allowedHosts: ['shark.example.com'] },
  );
  assert.equal(up.ok, true);
});
