/** `kubeshark config` through the CLI: effective YAML, precedence, `-r`, and errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { cli } from './helpers/cli.ts';

const root = new URL('..', import.meta.url).pathname;

function home(): string {
  return mkdtempSync(join(tmpdir(), 'kscfg-home-'));
}

async function run(args: string[], env: Record<string, string>) {
  return execa(process.execPath, [...cli, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    extendEnv: false,
    reject: false,
  });
}

test('config prints the effective configuration as YAML', async () => {
  const r = await run(['config'], { HOME: home() });
  assert.equal(r.exitCode, 0, r.stderr);
  const cfg = parse(r.stdout) as {
    tap: { proxy: { front: { port: number } }; enabledDissectors: string[] };
  };
  assert.equal(cfg.tap.proxy.front.port, 8899);
  assert.deepEqual(cfg.tap.enabledDissectors, ['http', 'ws', 'dns']);
});

test('config file < env < --set, and -r writes ~/.kubeshark/config.yaml', async () => {
  const h = home();
  mkdirSync(join(h, '.kubeshark'));
  writeFileSync(
    join(h, '.kubeshark/config.yaml'),
    'tap:\n  proxy:\n    front:\n      port: 7001\n  namespaces: [shop]\n',
  );
  const fromFile = parse((await run(['config'], { HOME: h })).stdout) as {
    tap: { proxy: { front: { port: number } }; namespaces: string[] };
  };
  assert.equal(fromFile.tap.proxy.front.port, 7001);
  assert.deepEqual(fromFile.tap.namespaces, ['shop']);
  const fromEnv = parse(
    (await run(['config'], { HOME: h, KUBESHARK_TAP_PROXY_FRONT_PORT: '7002' })).stdout,
  ) as typeof fromFile;
  assert.equal(fromEnv.tap.proxy.front.port, 7002);
  const fromSet = parse(
    (
      await run(['--set', 'tap.proxy.front.port=7003', 'config'], {
        HOME: h,
        KUBESHARK_TAP_PROXY_FRONT_PORT: '7002',
      })
    ).stdout,
  ) as typeof fromFile;
  assert.equal(fromSet.tap.proxy.front.port, 7003);

  const w = await run(['--set', 'tap.portMapping.http=8081,8082', 'config', '-r'], { HOME: h });
  assert.equal(w.exitCode, 0, w.stderr);
  const written = parse(readFileSync(join(h, '.kubeshark/config.yaml'), 'utf8')) as {
    tap: { portMapping: Record<string, number[]>; namespaces: string[] };
  };
  assert.deepEqual(written.tap.portMapping, { http: [8081, 8082] });
  assert.deepEqual(written.tap.namespaces, ['shop'], 'what the file had is kept');
  const again = parse((await run(['config'], { HOME: h })).stdout) as typeof written;
  assert.deepEqual(again.tap.portMapping, { http: [8081, 8082] });
});

test('config errors name the key and where it came from', async () => {
  const h = home();
  const badEnv = await run(['config'], { HOME: h, KUBESHARK_TAP_PROXY_FRONT_PORT: 'eighty' });
  assert.equal(badEnv.exitCode, 4);
  assert.match(
    badEnv.stderr,
    /`tap\.proxy\.front\.port` \(from env KUBESHARK_TAP_PROXY_FRONT_PORT\) must be an integer.*\[KS_ERR_CONFIG_TYPE\]/,
  );
  const badDissector = await run(
    ['--set', 'tap.enabledDissectors=http,gopher', 'dissect', join(root, 'demo/shop.pcap')],
    { HOME: h },
  );
  assert.equal(badDissector.exitCode, 4);
  assert.match(badDissector.stderr, /unknown dissector "gopher"/);
});
