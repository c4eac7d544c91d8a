import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultConfig, loadConfig } from '../config/load.ts';
import { redactionConfig } from './config.ts';

test('tap.redaction defaults: on, the usual credential headers and fields', () => {
  const { names, patterns, ...lists } = redactionConfig(defaultConfig());
  assert.equal(patterns, true, 'secrets by shape: on');
  for (const n of ['*password*', '*secret*', '*token', '*apikey*', '*credential*', '*privatekey*'])
    assert.ok(names?.includes(n), n);
  assert.deepEqual(lists, {
    enabled: true,
    headers: [
      'authorization',
      'proxy-authorization',
      'cookie',
      'set-cookie',
      'x-api-key',
      'x-auth-token',
    ],
    bodyFields: [
      'password',
      'passwd',
      'secret',
      'token',
      'access_token',
      'refresh_token',
      'client_secret',
      'api_key',
      'apikey',
    ],
  });
});

test('tap.redaction from a config file, the environment and --set', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ks-redact-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, 'tap:\n  redaction:\n    headers: [x-secret]\n');
  const c = loadConfig({
    configPath: file,
    env: { KUBESHARK_TAP_REDACTION_BODY_FIELDS: 'pin,cvv' },
    sets: [
      'tap.redaction.enabled=false',
      'tap.redaction.names=*pin',
      'tap.redaction.patterns=false',
    ],
  });
  assert.deepEqual(redactionConfig(c), {
    enabled: false,
    headers: ['x-secret'],
    bodyFields: ['pin', 'cvv'],
    names: ['*pin'],
    patterns: false,
  });
});
