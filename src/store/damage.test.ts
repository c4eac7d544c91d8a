/**
 * A store reopened with a damaged tail: what the cut takes with it is counted (`lostEntries`),
 * logged when the store opens, and shown in the worker's health (`capture.storeLost`). Before,
 * a damaged length field made the cut drop every entry after it as "1 torn record".
 */
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Entry } from '../entry/model.ts';
import { entriesFromCapture } from '../tap/run.ts';
import { createWorker } from '../worker/worker.ts';
import { FILE_HEADER_BYTES, FRAME_ENTRY, FRAME_HEADER_BYTES } from './frame.ts';
import { EntryStore } from './store.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ks-store-damage-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let dirs = 0;
const newDir = (): string => join(tmp, `s${++dirs}`);
const DEMO = new URL('../../demo/shop.pcap', import.meta.url).pathname;

/** `n` entries (the demo's, again and again) with ids 1…n. */
async function entries(n: number): Promise<Entry[]> {
  const demo = await entriesFromCapture(DEMO);
  return Array.from({ length: n }, (_, i) => ({
    ...(JSON.parse(JSON.stringify(demo[i % demo.length])) as Entry),
    id: i + 1,
  }));
}

/** Offsets of the entry frames of a segment file, in order. */
function entryFrames(b: Buffer): number[] {
  const at: number[] = [];
  for (let p = FILE_HEADER_BYTES; p + FRAME_HEADER_BYTES <= b.length;) {
    if (b[p + 8] === FRAME_ENTRY) at.push(p);
    p += FRAME_HEADER_BYTES + b.readUInt32LE(p);
  }
  return at;
}

const segment = (dir: string): string =>
  join(dir, readdirSync(dir).filter((f) => f.endsWith('.seg'))[0]!);

test('a damaged length 10 entries before the end: 10 entries lost, counted and logged', async () => {
  const dir = newDir();
  const es = await entries(60);
  let store = await EntryStore.open(dir);
  for (const e of es) store.append(e);
  await store.close();
  const file = segment(dir);
  const b = readFileSync(file);
  const frames = entryFrames(b);
  assert.equal(frames.length, 60);
  // The length of the 51st entry's frame becomes garbage: nothing after it can be walked to.
  b.writeUInt32LE(0x00ffffff, frames[50]!);
  writeFileSync(file, b);
  const lines: string[] = [];
  store = await EntryStore.open(dir, { log: (l) => lines.push(l) });
  const st = store.stats();
  assert.equal(st.entries, 50);
  assert.equal(st.tornRecords, 1);
  assert.equal(st.lostEntries, 10, 'the damaged entry and the 9 whole ones after it');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /reopened with damage: 10 entries lost/);
  await store.close();
  // Reopened again: the cut is done, nothing more is lost, nothing is logged.
  lines.length = 0;
  store = await EntryStore.open(dir, { log: (l) => lines.push(l) });
  assert.equal(store.stats().lostEntries, 0);
  assert.equal(lines.length, 0);
  await store.close();
});

test('a torn final record: 1 entry lost; an intact store: 0, and no line', async () => {
  const dir = newDir();
  let store = await EntryStore.open(dir);
  for (const e of await entries(20)) store.append(e);
  await store.close();
  const lines: string[] = [];
  store = await EntryStore.open(dir, { log: (l) => lines.push(l) });
  assert.equal(store.stats().lostEntries, 0);
  await store.close();
  assert.equal(lines.length, 0);
  const file = segment(dir);
  truncateSync(file, readFileSync(file).length - 5);
  store = await EntryStore.open(dir, { log: (l) => lines.push(l) });
  assert.equal(store.stats().lostEntries, 1);
  assert.equal(store.stats().entries, 19);
  assert.match(lines.join('\n'), /1 entries lost \(1 damaged tails cut/);
  await store.close();
});

test("the worker's health and log say how many entries the damaged store lost", async () => {
  const dir = newDir();
  const store = await EntryStore.open(dir);
  for (const e of await entries(30)) store.append(e);
  await store.close();
  const file = segment(dir);
  const b = readFileSync(file);
  b.writeUInt32LE(0x00ffffff, entryFrames(b)[25]!);
  writeFileSync(file, b);
  const log: string[] = [];
  const worker = await createWorker({ storeDir: dir, log: (l) => log.push(l) });
  try {
    assert.equal(worker.health().capture?.storeLost, 5);
    assert.equal(worker.counters().entries, 0, 'nothing stored by this run');
    assert.match(log.join('\n'), /^worker: store .*: reopened with damage: 5 entries lost/m);
  } finally {
    await worker.close();
  }
});
