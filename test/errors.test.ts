/**
 * The CLI error contract (CONVENTIONS 10), through the runner in-process and through
 * the CLI as a child process (test/helpers/cli.ts):
 *  - a truncated capture prints every entry before the damage, then one error line
 *    `kubeshark: … [KS_ERR_CAPTURE_TRUNCATED]`, exit 3;
 *  - empty file → KS_ERR_CAPTURE_EMPTY, text file → KS_ERR_CAPTURE_FORMAT, missing file →
 *    KS_ERR_FILE_NOT_FOUND (nothing on stdout), directory → KS_ERR_FILE_READ; all exit 3;
 *  - `--debug` (or KUBESHARK_DEBUG=1) adds the stack trace, without it there is none;
 *  - an unknown `--set` key → exit 4 naming the key; a wrong `-o` value → exit 2;
 *  - `-` reads the capture from stdin.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type Result } from 'execa';
import { isKsError, type KsError } from '../src/util/errors.ts';
import { dissectViews, type DissectResult } from './helpers/dissect.ts';
import { locateIp, parsePcap, serializePcap, type PcapFile } from './helpers/pcap-rewrite.ts';
import { corpus, needsSharedFor } from './helpers/shared.ts';
import { cli as cliArgs } from './helpers/cli.ts';

const root = new URL('..', import.meta.url).pathname;
const shopPath = join(root, 'demo/shop.pcap');
const shop = readFileSync(shopPath);
const shopFile = parsePcap(shop);
const pipelinedPath = corpus('http/zeek-pipelined-requests.pcap');

let dir = '';
let env: Record<string, string> = {};
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ks-errors-'));
  const home = join(dir, 'home');
  mkdirSync(home);
  env = { HOME: home, PATH: process.env.PATH ?? '', NO_COLOR: '1' };
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI as a child process; the node name matches test/helpers/dissect.ts. */
function cli(
  args: string[],
  opts: { input?: Buffer; env?: Record<string, string>; setNode?: boolean } = {},
): Promise<Result> {
  const sets = opts.setNode === false ? [] : ['--set', 'node.name=test-node'];
  return execa(process.execPath, [...cliArgs, ...sets, ...args], {
    cwd: root,
    env: { ...env, ...opts.env },
    extendEnv: false,
    reject: false,
    timeout: 30_000,
    stripFinalNewline: false,
    ...(opts.input ? { input: opts.input } : {}),
  }) as unknown as Promise<Result>;
}

function text(s: unknown): string {
  return typeof s === 'string' ? s : '';
}

function jsonl(stdout: unknown): Record<string, unknown>[] {
  return text(stdout)
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** stderr lines that are program messages (the summary lines are not). */
function errorLines(stderr: unknown): string[] {
  return text(stderr)
    .split('\n')
    .filter((l) => l.startsWith('kubeshark:'));
}

const STACK = /^\s+at .+/m;

/** Asserts the one-error-line contract and returns the line. */
function assertOneErrorLine(r: Result, code: string): string {
  const lines = errorLines(r.stderr);
  assert.equal(lines.length, 1, `one error line, stderr:\n${text(r.stderr)}`);
  const line = lines[0]!;
  assert.match(line, new RegExp(`^kubeshark: \\S.* \\[${code}\\]$`));
  const all = text(r.stderr).trimEnd().split('\n');
  assert.equal(all[all.length - 1], line, 'the error line comes last');
  assert.doesNotMatch(text(r.stderr), STACK, 'no stack trace without --debug');
  return line;
}

function write(name: string, bytes: Buffer | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

function assertKsError(r: DissectResult, code: string, exitCode: number): KsError {
  assert.ok(isKsError(r.error), `a KsError, got ${String(r.error)}`);
  const e = r.error as KsError;
  assert.equal(e.code, code);
  assert.equal(e.exitCode, exitCode);
  return e;
}

// ---------------------------------------------------------------------------------------------

/** Byte offset where record `k` starts in a serialized pcap. */
function recordOffset(f: PcapFile, k: number): number {
  let off = 24;
  for (let i = 0; i < k; i++) off += 16 + f.records[i]!.data.length;
  return off;
}

function viewFlowKey(v: Record<string, unknown>): string {
  const s = v.src as { ip: string; port: number };
  const d = v.dst as { ip: string; port: number };
  const ends = [`${s.ip}:${s.port}`, `${d.ip}:${d.port}`].sort();
  return `${String(v.stream).split('-')[0]}|${ends.join('|')}`;
}

/** A flow's undirected key in the views' terms (dotted IPv4: these captures are IPv4). */
function textKey(f: PcapFile, k: number): string | undefined {
  const d = f.records[k]!.data;
  const ip = locateIp(f.linkType, d);
  if (!ip || ip.ipVersion !== 4 || ip.l4Off + 4 > ip.end) return undefined;
  const a = `${[...d.subarray(ip.ipOff + 12, ip.ipOff + 16)].join('.')}:${d.readUInt16BE(ip.l4Off)}`;
  const b = `${[...d.subarray(ip.ipOff + 16, ip.ipOff + 20)].join('.')}:${d.readUInt16BE(ip.l4Off + 2)}`;
  const proto = ip.proto === 6 ? 'tcp' : ip.proto === 17 ? 'udp' : String(ip.proto);
  return `${proto}|${[a, b].sort().join('|')}`;
}

const withoutId = (v: Record<string, unknown>) => {
  const { id: _id, ...rest } = v;
  return rest;
};

describe('a truncated capture', () => {
  for (const [path, multiFlow] of [
    [shopPath, true],
    [pipelinedPath, false],
  ] as const) {
    const name = `every cut of ${path.split('/').pop()} keeps the entries before the damage`;
    test(name, needsSharedFor(path), async () => {
      const f = parsePcap(readFileSync(path));
      const whole = serializePcap(f);
      const intact = await dissectViews([write('intact.pcap', whole)]);
      assert.equal(intact.error, undefined);
      const intactKeys = intact.views.map((v) => JSON.stringify(withoutId(v)));
      // Last packet index of every flow.
      const lastOf = new Map<string, number>();
      f.records.forEach((_, k) => {
        const key = textKey(f, k);
        if (key) lastOf.set(key, k);
      });
      let checkedFlows = 0;
      /** First cut at which each entry of the intact run is printed (identical but for its id). */
      const firstSeen = new Map<string, number>();
      for (let k = 1; k < f.records.length; k++) {
        // Cut inside record k: in its header for odd k, in its data for even k.
        const start = recordOffset(f, k);
        const cut =
          k % 2 === 1 ? start + 7 : start + 16 + Math.floor(f.records[k]!.data.length / 2);
        const truncated = await dissectViews([write('cut.pcap', whole.subarray(0, cut))]);
        const e = assertKsError(truncated, 'KS_ERR_CAPTURE_TRUNCATED', 3);
        assert.match(e.message, /truncated/);
        assert.match(e.message, new RegExp(`after ${k} packets`));
        // Exactly what the valid capture of the first k packets gives…
        const prefix = await dissectViews([
          write('prefix.pcap', serializePcap({ ...f, records: f.records.slice(0, k) })),
        ]);
        assert.equal(prefix.error, undefined);
        assert.deepEqual(truncated.views, prefix.views, `cut in record ${k}`);
        // …every entry of a flow whose packets all lie before the cut, as in the intact run…
        const done = new Set([...lastOf].filter(([, last]) => last < k).map(([key]) => key));
        const before = (r: DissectResult) =>
          r.views.filter((v) => done.has(viewFlowKey(v))).map(withoutId);
        assert.deepEqual(before(truncated), before(intact), `flows complete before record ${k}`);
        checkedFlows += done.size;
        // …and an entry printed at one cut is printed, unchanged, at every later cut.
        const printed = new Set(truncated.views.map((v) => JSON.stringify(withoutId(v))));
        for (const [key, at] of firstSeen)
          assert.ok(
            printed.has(key),
            `entry first printed at cut ${at} is missing at cut ${k}: ${key}`,
          );
        for (const key of intactKeys)
          if (printed.has(key) && !firstSeen.has(key)) firstSeen.set(key, k);
      }
      if (multiFlow) assert.ok(checkedFlows > 0, 'some flows end before some cut');
      assert.ok(
        firstSeen.size >= intactKeys.length / 2,
        `most entries are printed before the last packet: ${firstSeen.size} of ${intactKeys.length}`,
      );
    });
  }

  test('through the CLI: entries on stdout, one error line, exit 3', async () => {
    // Cut in the middle of a packet roughly halfway through the capture.
    const k = Math.floor(shopFile.records.length / 2);
    const cut = recordOffset(shopFile, k) + 16 + 10;
    const p = write('shop-cut.pcap', shop.subarray(0, cut));
    const r = await cli(['dissect', '-o', 'jsonl', p]);
    assert.equal(r.exitCode, 3, text(r.stderr));
    const line = assertOneErrorLine(r, 'KS_ERR_CAPTURE_TRUNCATED');
    assert.ok(line.includes(p), 'names the file');
    const prefix = await dissectViews([
      write(
        'shop-prefix.pcap',
        serializePcap({ ...shopFile, records: shopFile.records.slice(0, k) }),
      ),
    ]);
    const views = jsonl(r.stdout);
    assert.ok(views.length > 0);
    assert.deepEqual(views, prefix.views);
  });

  test('cut inside the file header', async () => {
    const p = write('header-cut.pcap', shop.subarray(0, 10));
    const r = await dissectViews([p]);
    const e = assertKsError(r, 'KS_ERR_CAPTURE_TRUNCATED', 3);
    assert.match(e.message, /file header/);
    assert.equal(r.views.length, 0);
    const c = await cli(['dissect', '-o', 'jsonl', p]);
    assert.equal(c.exitCode, 3);
    assertOneErrorLine(c, 'KS_ERR_CAPTURE_TRUNCATED');
    assert.equal(text(c.stdout), '');
  });
});

describe('input files that are not captures', () => {
  test('an empty file', async () => {
    const p = write('empty.pcap', '');
    const r = await dissectViews([p]);
    const e = assertKsError(r, 'KS_ERR_CAPTURE_EMPTY', 3);
    assert.match(e.message, /empty/);
    const c = await cli(['dissect', '-o', 'jsonl', p]);
    assert.equal(c.exitCode, 3);
    assert.match(assertOneErrorLine(c, 'KS_ERR_CAPTURE_EMPTY'), /is empty/);
    assert.equal(text(c.stdout), '');
  });

  test('a text file', async () => {
    const p = write('notes.txt', 'hello, this is not a capture\nsecond line\n');
    const r = await dissectViews([p]);
    const e = assertKsError(r, 'KS_ERR_CAPTURE_FORMAT', 3);
    assert.match(e.message, /not a pcap or pcapng capture/);
    const c = await cli(['dissect', '-o', 'jsonl', p]);
    assert.equal(c.exitCode, 3);
    assert.match(assertOneErrorLine(c, 'KS_ERR_CAPTURE_FORMAT'), /not a pcap or pcapng capture/);
    assert.equal(text(c.stdout), '');
  });

  test('a missing file: nothing on stdout', async () => {
    const p = join(dir, 'does-not-exist.pcap');
    const r = await dissectViews([p]);
    const e = assertKsError(r, 'KS_ERR_FILE_NOT_FOUND', 3);
    assert.ok(e.message.includes(p));
    assert.equal(r.views.length, 0);
    const c = await cli(['dissect', '-o', 'jsonl', p]);
    assert.equal(c.exitCode, 3);
    assert.ok(assertOneErrorLine(c, 'KS_ERR_FILE_NOT_FOUND').includes(p));
    assert.equal(text(c.stdout), '', 'no output on stdout');
    // Checked before anything is read: a good file first does not print its entries either.
    const both = await cli(['dissect', '-o', 'jsonl', shopPath, p]);
    assert.equal(both.exitCode, 3);
    assert.equal(text(both.stdout), '', 'a typo fails before any output');
  });

  test('a directory', async () => {
    const r = await dissectViews([dir]);
    const e = assertKsError(r, 'KS_ERR_FILE_READ', 3);
    assert.match(e.message, /directory/);
    const c = await cli(['dissect', '-o', 'jsonl', dir]);
    assert.equal(c.exitCode, 3);
    assert.match(assertOneErrorLine(c, 'KS_ERR_FILE_READ'), /is a directory/);
    assert.equal(text(c.stdout), '');
  });
});

describe('--debug', () => {
  test('adds the stack trace; without it there is none', async () => {
    const p = write('debug.txt', 'not a capture');
    const plain = await cli(['dissect', '-o', 'jsonl', p]);
    assert.equal(plain.exitCode, 3);
    assertOneErrorLine(plain, 'KS_ERR_CAPTURE_FORMAT');
    for (const [label, args, extra] of [
      ['--debug before the command', ['--debug', 'dissect', '-o', 'jsonl', p], {}],
      ['--debug after the command', ['dissect', '--debug', '-o', 'jsonl', p], {}],
      ['KUBESHARK_DEBUG=1', ['dissect', '-o', 'jsonl', p], { KUBESHARK_DEBUG: '1' }],
    ] as const) {
      const r = await cli([...args], { env: { ...extra } });
      assert.equal(r.exitCode, 3, `${label}: exit code unchanged`);
      const err = text(r.stderr);
      assert.match(err, /^kubeshark: .* \[KS_ERR_CAPTURE_FORMAT\]$/m, label);
      assert.match(err, STACK, `${label}: a stack trace`);
      assert.match(err, /KsError/, `${label}: the stack names the error`);
    }
  });

  test('missing file with and without --debug', async () => {
    const p = join(dir, 'nope.pcap');
    const plain = await cli(['dissect', p]);
    assert.doesNotMatch(text(plain.stderr), STACK);
    const dbg = await cli(['--debug', 'dissect', p]);
    assert.equal(dbg.exitCode, 3);
    assert.match(text(dbg.stderr), STACK);
    assert.equal(text(dbg.stdout), '');
  });
});

describe('usage and config errors', () => {
  test('an unknown --set key: exit 4 naming the key', async () => {
    for (const key of ['tap.nope', 'nope.key']) {
      const r = await cli(['--set', `${key}=1`, 'dissect', '-o', 'jsonl', shopPath]);
      assert.equal(r.exitCode, 4, `${key}: ${text(r.stderr)}`);
      const line = assertOneErrorLine(r, 'KS_ERR_CONFIG_UNKNOWN_KEY');
      assert.ok(line.includes(`\`${key}\``), `names ${key}: ${line}`);
      assert.equal(text(r.stdout), '', 'nothing dissected');
    }
  });

  test('a wrong -o value: exit 2', async () => {
    const r = await cli(['dissect', '-o', 'xml', shopPath]);
    assert.match(text(r.stderr), /xml/);
    assert.equal(text(r.stdout), '');
    assert.doesNotMatch(text(r.stderr), STACK);
    assert.equal(r.exitCode, 2, `usage errors exit 2; stderr:\n${text(r.stderr)}`);
  });

  test('a usage error before the command also exits 2', async () => {
    const r = await cli(['--no-such-flag', 'dissect', shopPath]);
    assert.equal(r.exitCode, 2);
  });
});

describe('stdin', () => {
  test('- reads the capture from stdin', async () => {
    const want = await dissectViews([shopPath]);
    const r = await cli(['dissect', '-o', 'jsonl', '-'], { input: shop });
    assert.equal(r.exitCode, 0, text(r.stderr));
    assert.deepEqual(jsonl(r.stdout), want.views);
    assert.equal(errorLines(r.stderr).length, 0);
    assert.match(text(r.stderr), /packets: 69/);
  });

  test('a truncated capture on stdin', async () => {
    const r = await cli(['dissect', '-o', 'jsonl', '-'], { input: shop.subarray(0, 5000) });
    assert.equal(r.exitCode, 3);
    assert.match(assertOneErrorLine(r, 'KS_ERR_CAPTURE_TRUNCATED'), /stdin/);
    assert.ok(jsonl(r.stdout).length > 0, 'the entries before the damage');
  });

  test('empty stdin', async () => {
    const r = await cli(['dissect', '-o', 'jsonl', '-'], { input: Buffer.alloc(0) });
    assert.equal(r.exitCode, 3);
    assertOneErrorLine(r, 'KS_ERR_CAPTURE_EMPTY');
  });
});
