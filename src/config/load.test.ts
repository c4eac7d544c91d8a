import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envName, getPath, loadConfig, parseSize } from './load.ts';
import { KsError } from '../util/errors.ts';

function file(text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'kscfg-')), 'config.yaml');
  writeFileSync(p, text);
  return p;
}

test('defaults use Kubeshark key names', () => {
  const c = loadConfig({ configPath: file('') });
  assert.equal(getPath(c, 'tap.proxy.front.port'), 8899);
  assert.deepEqual(getPath(c, 'tap.namespaces'), []);
  assert.equal(getPath(c, 'tap.capture.dbMaxSize'), '500Mi');
});

test('precedence: flag > --set > env > file > defaults', () => {
  const path = file('tap:\n  proxy:\n    front:\n      port: 1001\n  namespaces: [a]\n');
  const env = { KUBESHARK_TAP_PROXY_FRONT_PORT: '1002', KUBESHARK_TAP_NAMESPACES: 'b,c' };
  assert.equal(getPath(loadConfig({ configPath: path }), 'tap.proxy.front.port'), 1001);
  assert.equal(getPath(loadConfig({ configPath: path, env }), 'tap.proxy.front.port'), 1002);
  assert.deepEqual(getPath(loadConfig({ configPath: path, env }), 'tap.namespaces'), ['b', 'c']);
  const sets = ['tap.proxy.front.port=1003'];
  assert.equal(getPath(loadConfig({ configPath: path, env, sets }), 'tap.proxy.front.port'), 1003);
  const flags = { 'tap.proxy.front.port': 1004 };
  assert.equal(
    getPath(loadConfig({ configPath: path, env, sets, flags }), 'tap.proxy.front.port'),
    1004,
  );
});

test('open maps: tap.portMapping.<protocol> from file, env and --set', () => {
  const c = loadConfig({
    configPath: file('tap:\n  portMapping:\n    http: [8080]\n'),
    env: { KUBESHARK_TAP_PORT_MAPPING_DNS: '5399' },
    sets: ['tap.portMapping.http=8081,8082'],
  });
  assert.deepEqual(getPath(c, 'tap.portMapping'), { http: [8081, 8082], dns: [5399] });
});

test('unknown keys are errors naming the key and the source', () => {
  assert.throws(
    () => loadConfig({ configPath: file(''), sets: ['tap.proxy.front.prot=1'] }),
    (e: unknown) =>
      e instanceof KsError &&
      e.code === 'KS_ERR_CONFIG_UNKNOWN_KEY' &&
      /tap\.proxy\.front\.prot/.test(e.message) &&
      /tap\.proxy\.front\.port/.test(e.message),
  );
  assert.throws(
    () => loadConfig({ configPath: file('tap:\n  nope: 1\n') }),
    (e: unknown) =>
      e instanceof KsError && /`tap\.nope`/.test(e.message) && /config\.yaml/.test(e.message),
  );
  assert.throws(
    () => loadConfig({ configPath: file(''), env: { KUBESHARK_TAP_BOGUS: '1' } }),
    (e: unknown) => e instanceof KsError && /KUBESHARK_TAP_BOGUS/.test(e.message),
  );
});

test('wrong types are errors naming the key', () => {
  assert.throws(
    () => loadConfig({ configPath: file('tap:\n  proxy:\n    front:\n      port: "abc"\n') }),
    (e: unknown) =>
      e instanceof KsError &&
      e.code === 'KS_ERR_CONFIG_TYPE' &&
      /tap\.proxy\.front\.port/.test(e.message),
  );
  assert.throws(
    () => loadConfig({ configPath: file(''), sets: ['tap.debug=yes'] }),
    /true or false/,
  );
  assert.throws(
    () => loadConfig({ configPath: file(''), sets: ['tap.capture.dbMaxSize=lots'] }),
    /size/,
  );
  assert.throws(
    () => loadConfig({ configPath: file(''), sets: ['tap.portMapping.http=x'] }),
    /integers/,
  );
  assert.throws(() => loadConfig({ configPath: file(': : :\n  - [') }), /not valid YAML/);
  assert.throws(
    () => loadConfig({ configPath: '/nonexistent/kubeshark.yaml' }),
    /cannot read config file/,
  );
});

test('env names and sizes', () => {
  assert.equal(envName('tap.enabledDissectors'), 'KUBESHARK_TAP_ENABLED_DISSECTORS');
  assert.equal(parseSize('500Mi'), 500 * 1024 * 1024);
  assert.equal(parseSize('5Gi'), 5 * 1024 ** 3);
  assert.equal(parseSize('1000'), 1000);
  assert.equal(parseSize('x'), undefined);
});
