import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { KsError } from '../../util/errors.ts';
import { captureFromStream, openCapture } from './open.ts';
import { pcapFile } from '../../../test/helpers/capture-files.ts';
import { corpus, needsShared } from '../../../test/helpers/shared.ts';
import type { PacketSource } from './types.ts';

const testdata = fileURLToPath(new URL('testdata/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ks-capture-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

async function drain(
  src: PacketSource,
): Promise<{ count: number; batches: number; error?: KsError }> {
  let count = 0;
  let batches = 0;
  try {
    for await (const batch of src.packets()) {
      batches++;
      count += batch.length;
    }
  } catch (e) {
    assert.ok(e instanceof KsError, `a KsError, not ${String(e)}`);
    return { count, batches, error: e };
  }
  return { count, batches };
}

function file(name: string, bytes: Buffer | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

test('a capture file: packets in batches, info after the header', async () => {
  const src = openCapture(join(testdata, 'two-ifaces.pcapng'));
  assert.equal(src.info(), undefined);
  const r = await drain(src);
  assert.deepEqual(r, { count: 28, batches: 1 });
  assert.deepEqual(src.info(), {
    format: 'pcapng',
    linkType: 1,
    snaplen: 262144,
    nanosecond: true,
  });
  // Iterating again re-reads the file.
  assert.equal((await drain(src)).count, 28);
});

test('program-level errors: missing, directory, empty, not a capture', async () => {
  const missing = await drain(openCapture(join(dir, 'nope.pcap')));
  assert.equal(missing.error?.code, 'KS_ERR_FILE_NOT_FOUND');
  assert.match(missing.error?.message ?? '', /nope\.pcap: no such file/);
  assert.equal((await drain(openCapture(dir))).error?.code, 'KS_ERR_FILE_READ');
  const empty = await drain(openCapture(file('empty.pcap', '')));
  assert.equal(empty.error?.code, 'KS_ERR_CAPTURE_EMPTY');
  assert.match(empty.error?.message ?? '', /empty\.pcap is empty$/);
  const text = await drain(openCapture(file('notes.txt', 'hello, world\n')));
  assert.equal(text.error?.code, 'KS_ERR_CAPTURE_FORMAT');
  assert.match(
    text.error?.message ?? '',
    /notes\.txt is not a pcap or pcapng capture \(magic 0x68656c6c\)/,
  );
});

test('a header-only capture is fine: no packets, no error', async () => {
  assert.deepEqual(await drain(openCapture(file('hdr.pcap', pcapFile({}, [])))), {
    count: 0,
    batches: 0,
  });
});

test('damage mid-stream: the good packets are delivered before the error', async () => {
  const bytes = pcapFile({}, [
    { sec: 1, frac: 0, data: Buffer.alloc(100) },
    { sec: 2, frac: 0, data: Buffer.alloc(100) },
  ]);
  const r = await drain(openCapture(file('cut.pcap', bytes.subarray(0, bytes.length - 1))));
  assert.equal(r.count, 1);
  assert.equal(r.error?.code, 'KS_ERR_CAPTURE_TRUNCATED');
  assert.match(
    r.error?.message ?? '',
    /cut\.pcap is truncated at byte 140: .*\(115 of 116 bytes\) after 1 packets/,
  );
});

const realCut = corpus('postgresql/suricata-pgsql-5000-query-results.pcap');
test('a real capture cut short in its last packet', needsShared(), async () => {
  const r = await drain(openCapture(realCut));
  assert.equal(r.count, 785); // tshark reads 785 packets and warns
  assert.equal(r.error?.code, 'KS_ERR_CAPTURE_TRUNCATED');
});

test('captureFromStream: any Readable, chunked anyhow', async () => {
  const bytes = readFileSync(join(testdata, 'lo-ns.pcap'));
  const chunks = [];
  for (let o = 0; o < bytes.length; o += 333)
    chunks.push(new Uint8Array(bytes.subarray(o, o + 333)));
  const src = captureFromStream('live', Readable.from(chunks));
  const r = await drain(src);
  assert.equal(r.count, 14);
  assert.ok(r.batches > 1);
  assert.equal(src.info()?.nanosecond, true);
});

test('stopping early closes the input', async () => {
  const stream = Readable.from([readFileSync(join(testdata, 'any.pcap'))]);
  for await (const batch of captureFromStream('s', stream).packets()) {
    assert.ok(batch.length > 0);
    break;
  }
  assert.equal(stream.destroyed, true);
});

test('path "-" reads standard input', () => {
  const script = `
    import { openCapture } from ${JSON.stringify(new URL('open.ts', import.meta.url).href)};
    let n = 0;
    try {
      for await (const b of openCapture('-').packets()) n += b.length;
      console.log(JSON.stringify({ n }));
    } catch (e) {
      console.log(JSON.stringify({ n, code: e.code, message: e.message }));
    }`;
  const run = (input: Buffer) => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        input,
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { n: number; code?: string; message?: string };
  };
  const bytes = readFileSync(join(testdata, 'two-ifaces.pcapng'));
  assert.deepEqual(run(bytes), { n: 28 });
  const cut = run(bytes.subarray(0, 1000));
  assert.equal(cut.code, 'KS_ERR_CAPTURE_TRUNCATED');
  assert.match(cut.message ?? '', /^stdin is truncated at byte/);
  assert.equal(run(Buffer.alloc(0)).code, 'KS_ERR_CAPTURE_EMPTY');
});
