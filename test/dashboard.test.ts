/**
 * The dashboard end to end, in real Chromium (Debian's /usr/bin/chromium through playwright-core,
 * nothing downloaded): the built assets (scripts/build-front.mjs) served by the real front server,
 * which proxies `/api` over HTTP to a real hub, which fans out over HTTP to two real workers —
 * one replaying demo/shop.pcap, one every dissector's golden capture — with the product's default
 * redaction. Every expectation is read from the same API the page uses, at test time.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type {
  EntriesResponse,
  KflCheck,
  StatsResponse,
  WorkersResponse,
} from '../src/api/types.ts';
import { fmtCount, fmtDuration } from '../src/front/app/lib/format.ts';
import { cliFrontDir } from './helpers/cli.ts';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM)
  ? false
  : `Chromium not found at ${CHROMIUM} (Debian: apt-get install chromium)`;
const root = new URL('..', import.meta.url).pathname;

/** Stress: entries per second pushed into a worker, and for how long. */
const STRESS_RATE = 5000;
const STRESS_SECONDS = 3;
/** The slowest a click may be handled while the stream runs (measured in the page). */
const MAX_INPUT_DELAY_MS = 200;

/**
 * The browser globals the in-page snippets use. This file compiles with Node's types (no DOM
 * lib), so each snippet reaches them through `globalThis as unknown as InPage`.
 */
interface InEl {
  textContent: string | null;
  value: string;
  dataset: Record<string, string | undefined>;
  getBoundingClientRect(): { left: number; width: number };
}
interface InPage {
  document: {
    querySelector(sel: string): InEl | null;
    createElement(tag: 'canvas'): {
      getContext(kind: '2d'): { font: string; measureText(t: string): { width: number } };
    };
    addEventListener(
      type: 'click',
      fn: (ev: { timeStamp: number }) => void,
      capture: boolean,
    ): void;
  };
  location: { href: string };
  getComputedStyle(el: InEl): { font: string; borderLeftWidth: string; paddingLeft: string };
  PerformanceObserver: new (cb: (list: { getEntries(): { duration: number }[] }) => void) => {
    observe(o: { type: string; buffered: boolean }): void;
  };
  /** Set by the stress test. */
  delays: number[];
  longest: number;
}

interface Stack {
  /** test/helpers/dashboard-stack.ts: workers, hub and front, in their own process. */
  child: ChildProcessWithoutNullStreams;
  /** Its answers, one JSON line each. */
  lines: AsyncIterator<string>;
  url: string;
  browser: Browser;
}
let s: Stack | undefined;
/** The dashboard build this file made (and removes), if it made one. */
let ownBuild: string | undefined;

before(async () => {
  if (skip) return;
  // The dashboard npm test built beside the CLI bundle, else a build of its own.
  let out = cliFrontDir;
  if (out === undefined) {
    out = mkdtempSync(join(tmpdir(), 'ks-dashboard-'));
    ownBuild = out;
    const built = spawnSync(process.execPath, ['scripts/build-front.mjs', '--out-dir', out], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(built.status, 0, `build-front failed:\n${built.stdout}\n${built.stderr}`);
  }
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/helpers/dashboard-stack.ts', out],
    {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  assert.ok(!first.done, `the server stack did not start:\n${stderr}`);
  const { url } = JSON.parse(first.value) as { url: string };
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  s = { child, lines, url, browser };
});

after(async () => {
  if (s === undefined) return;
  await s.browser.close();
  const exited = new Promise((r) => s!.child.once('exit', r));
  s.child.stdin.end();
  await exited;
  if (ownBuild !== undefined) rmSync(ownBuild, { recursive: true, force: true });
});

function stack(): Stack {
  assert.ok(s !== undefined, 'stack not started');
  return s;
}

/** Stores entries into the `shop` worker (or `golden`) now, or at a rate; resolves when done. */
async function push(
  cmd: ({ count: number } | { rate: number; seconds: number }) & { node?: 'golden' },
): Promise<{ pushed: number; seconds: number }> {
  return (await command({ op: 'push', ...cmd })) as { pushed: number; seconds: number };
}

/** One command to the server stack and its answer. */
async function command(cmd: Record<string, unknown>): Promise<unknown> {
  const { child, lines } = stack();
  child.stdin.write(JSON.stringify(cmd) + '\n');
  const r = await lines.next();
  assert.ok(!r.done, 'the server stack exited');
  return JSON.parse(r.value) as unknown;
}

/** The API as the page sees it: through the front server. */
async function api<T>(path: string, query: Record<string, string> = {}): Promise<T> {
  const u = new URL(path, stack().url);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  const res = await fetch(u);
  const body = (await res.json()) as T;
  assert.equal(res.status, 200, `${u}: ${JSON.stringify(body)}`);
  return body;
}

/** How many entries match `q` (all pages). */
async function countOf(q: string): Promise<number> {
  const r = await api<EntriesResponse>('/api/entries', { q, limit: '1', count: '1' });
  assert.equal(typeof r.total, 'number', 'the API counts matches with count=1');
  return r.total!;
}

const ARTIFACTS = new URL('../test-artifacts/dashboard/', import.meta.url).pathname;
let shots = 0;
/** `test-artifacts/dashboard/NN-<view and query>.png` */
function shotPath(pageUrl: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  const u = new URL(pageUrl);
  const slug = (u.searchParams.get('view') ?? 'traffic') + '-' + (u.searchParams.get('q') ?? '');
  const name = slug
    .replace(/[^a-zA-Z0-9]+/g, '_')
    .slice(0, 60)
    .replace(/_+$/, '');
  return `${ARTIFACTS}${String(++shots).padStart(2, '0')}-${name}.png`;
}

interface Opened {
  page: Page;
  /** Problems seen by the page (errors, requests leaving the origin), checked by `done`. */
  problems: string[];
  done(): Promise<void>;
}

async function open(query = ''): Promise<Opened> {
  const { browser, url } = stack();
  const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
  const problems: string[] = [];
  const origin = new URL(url).origin;
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('request', (r) => {
    const u = r.url();
    if (
      !u.startsWith(origin) &&
      !u.startsWith('data:') &&
      !u.startsWith(origin.replace('http', 'ws'))
    )
      problems.push(`request off the origin: ${u}`);
  });
  await page.goto(url + query);
  return {
    page,
    problems,
    async done() {
      // Screenshots are kept as artifacts (test-artifacts/dashboard/, ignored by git).
      await page.screenshot({ path: shotPath(page.url()), fullPage: false });
      await page.close();
      assert.deepEqual(problems, [], 'the page had problems');
    },
  };
}

async function rowCount(page: Page): Promise<number> {
  return Number(await page.getAttribute('[data-testid=row-count]', 'data-count'));
}

/** Waits until the list is live and holds `n` rows. */
async function waitRows(page: Page, n: number, timeout = 15_000): Promise<void> {
  try {
    await page.waitForFunction(
      (want) => {
        const { document } = globalThis as unknown as InPage;
        const phase = document.querySelector('[data-testid=phase]')?.textContent;
        const c = document.querySelector('[data-testid=row-count]')?.dataset.count;
        return phase === 'live' && Number(c) === want;
      },
      n,
      { timeout },
    );
  } catch (err) {
    const phase = await page.textContent('[data-testid=phase]').catch(() => '?');
    throw new Error(`expected ${n} rows, the list shows ${await rowCount(page)} (phase ${phase})`, {
      cause: err,
    });
  }
}

async function applyFilter(page: Page, q: string): Promise<void> {
  await page.fill('[data-testid=kfl-input]', q);
  await page.locator('[data-testid=kfl-apply]').click();
}

function urlQuery(page: Page): string | null {
  return new URL(page.url()).searchParams.get('q');
}

test('the list shows every stored entry, virtualized, with status colours', { skip }, async () => {
  const total = await countOf('');
  const { workers } = await api<WorkersResponse>('/api/workers');
  assert.equal(
    total,
    workers.reduce((n, w) => n + w.capture!.entries, 0),
  );
  assert.ok(total > 60, `both workers replayed their captures (${total})`);
  const o = await open();
  await waitRows(o.page, total);
  const rendered = await o.page.locator('.row').count();
  assert.ok(
    rendered > 10 && rendered < total,
    `only visible rows exist in the DOM (${rendered} of ${total})`,
  );
  // Newest at the bottom, following: the last row is the newest entry.
  const newest = (await api<EntriesResponse>('/api/entries', { limit: '1', order: 'newest' }))
    .entries[0]!;
  const last = o.page.locator('.row').last();
  assert.equal(await last.getAttribute('data-id'), String(newest.id));
  assert.equal(await last.getAttribute('data-node'), newest.node);
  assert.ok(await last.isVisible());
  await o.done();
});

test(
  'a KFL filter narrows the list to what the API counts; the URL keeps it',
  { skip },
  async () => {
    const q = 'http && status_code >= 400';
    const want = await countOf(q);
    assert.ok(want > 0);
    const o = await open();
    await waitRows(o.page, await countOf(''));
    await applyFilter(o.page, q);
    await waitRows(o.page, want);
    assert.equal(urlQuery(o.page), q);
    const statuses = await o.page.locator('.row .status').allTextContents();
    assert.ok(
      statuses.every((t) => Number.parseInt(t, 10) >= 400),
      statuses.join(),
    );
    assert.equal(
      await o.page.locator('.row.st-client, .row.st-server, .row.st-error').count(),
      statuses.length,
    );
    // A shared link: reloading reproduces the view.
    await o.page.reload();
    await waitRows(o.page, want);
    assert.equal(await o.page.inputValue('[data-testid=kfl-input]'), q);
    await o.done();
  },
);

test('a bad filter shows the error under the right column', { skip }, async () => {
  const bad = 'http && status_cod >= 400';
  const check = await api<KflCheck>('/api/kfl', { q: bad });
  assert.equal(check.ok, false);
  assert.equal(check.error?.column, 9);
  const o = await open();
  await o.page.fill('[data-testid=kfl-input]', bad);
  const caret = o.page.locator('[data-testid=kfl-caret]');
  await caret.waitFor();
  assert.equal(await caret.getAttribute('data-column'), String(check.error!.column));
  assert.equal(await o.page.textContent('[data-testid=kfl-error]'), check.error!.message);
  // The caret sits under the 9th character: measured with the input's own font.
  const { caretX, charX } = await o.page.evaluate(() => {
    const { document, getComputedStyle } = globalThis as unknown as InPage;
    const input = document.querySelector('[data-testid=kfl-input]')!;
    const mark = document.querySelector('[data-testid=kfl-caret]')!;
    const cs = getComputedStyle(input);
    const ctx = document.createElement('canvas').getContext('2d');
    ctx.font = cs.font;
    const box = input.getBoundingClientRect();
    const left = box.left + parseFloat(cs.borderLeftWidth) + parseFloat(cs.paddingLeft);
    const m = mark.getBoundingClientRect();
    return {
      caretX: m.left + m.width / 2,
      charX: left + ctx.measureText(input.value.slice(0, 8)).width + ctx.measureText('s').width / 2,
    };
  });
  assert.ok(Math.abs(caretX - charX) < 3, `caret at ${caretX}, character at ${charX}`);
  // Fixed, the error goes away.
  await o.page.fill('[data-testid=kfl-input]', 'http && status_code >= 400');
  await caret.waitFor({ state: 'detached' });
  await o.done();
});

test('autocomplete from the field catalogue, driven by the keyboard', { skip }, async () => {
  const o = await open();
  const input = o.page.locator('[data-testid=kfl-input]');
  await input.click();
  await input.pressSequentially('status_c');
  const menu = o.page.locator('[data-testid=kfl-menu]');
  await menu.waitFor();
  assert.equal(await menu.locator('li[aria-selected=true] .name').textContent(), 'status_code');
  await input.press('Tab');
  assert.equal(await input.inputValue(), 'status_code');
  await input.pressSequentially(' == 200 && src.p');
  await menu.waitFor();
  const names = await menu.locator('li .name').allTextContents();
  assert.ok(names.includes('src.port'), names.join());
  await input.press('ArrowDown');
  const second = await menu.locator('li[aria-selected=true] .name').textContent();
  assert.equal(second, names[1]);
  await input.press('Enter');
  assert.equal(await input.inputValue(), `status_code == 200 && ${second}`);
  await input.pressSequentially(' && ht');
  await menu.waitFor();
  await input.press('Escape');
  await menu.waitFor({ state: 'detached' });
  assert.equal(await input.inputValue(), `status_code == 200 && ${second} && ht`);
  await o.done();
});

test(
  'a row opens its detail: headers, pretty body, redaction, timing, L4, raw JSON',
  { skip },
  async () => {
    const q = 'path == "/api/products" && src.port == 60196';
    const { entries } = await api<EntriesResponse>('/api/entries', { q });
    assert.equal(entries.length, 1);
    const e = entries[0]!;
    const o = await open(`?q=${encodeURIComponent(q)}`);
    await waitRows(o.page, 1);
    await o.page.click(`.row[data-id="${e.id}"] .time`);
    const detail = o.page.locator('[data-testid=detail]');
    await detail.waitFor();
    assert.equal(new URL(o.page.url()).searchParams.get('entry'), `${e.node}/${e.id}`);
    assert.equal(await o.page.textContent('[data-testid=detail-summary]'), 'GET /api/products');
    assert.equal(
      await o.page.locator(`.row[data-id="${e.id}"] [data-testid=row-redacted]`).count(),
      1,
    );
    assert.equal(
      await o.page.textContent('[data-testid=request-startline]'),
      'GET /api/products HTTP/1.1',
    );
    const reqHeaders = o.page.locator('[data-testid=request-headers] tr');
    assert.deepEqual(await reqHeaders.locator('th').allTextContents(), [
      'accept-encoding',
      'Host',
      'Connection',
    ]);
    assert.deepEqual(await reqHeaders.locator('td').allTextContents(), [
      'gzip',
      'shop.demo.local',
      'keep-alive',
    ]);
    // Default redaction replaced the session cookie before storage.
    assert.match(
      (await o.page.textContent('[data-testid=redacted-fields]'))!,
      /response\.headers\.set-cookie/,
    );
    await detail.locator('[data-tab=response]').click();
    assert.equal(await o.page.textContent('[data-testid=response-startline]'), 'HTTP/1.1 200 OK');
    const cookieRow = o.page.locator('[data-testid=response-headers] tr', {
      hasText: 'set-cookie',
    });
    assert.equal(await cookieRow.locator('.redacted-badge').textContent(), 'REDACTED');
    const body = (await o.page.textContent('[data-testid=body]'))!;
    assert.ok(body.startsWith('[\n  {\n    "id": 40,\n    "name": "kettle"'), body.slice(0, 80));
    await detail.locator('[data-tab=timing]').click();
    assert.equal(await o.page.textContent('[data-testid=elapsed]'), fmtDuration(e.elapsed));
    await detail.locator('[data-tab=l4]').click();
    const src = await o.page.locator('[data-testid=l4-src] td').allTextContents();
    assert.deepEqual(src.slice(0, 2), ['127.0.0.1', '60196']);
    await detail.locator('[data-tab=raw]').click();
    assert.match((await o.page.textContent('[data-testid=raw-json]'))!, /"status_code": 200/);
    await o.done();
  },
);

test('click-to-filter appends the clause for the value clicked', { skip }, async () => {
  const q0 = 'http && src.port == 60196';
  const o = await open('?q=' + encodeURIComponent(q0));
  await waitRows(o.page, await countOf(q0));
  const row = o.page.locator('.row', { hasText: '/api/products/999' });
  await row.locator('.method').click();
  const q1 = `${q0} && method == "GET"`;
  assert.equal(await o.page.inputValue('[data-testid=kfl-input]'), q1);
  await waitRows(o.page, await countOf(q1));
  await o.page.locator('.row .status .fv', { hasText: '404' }).click();
  const q2 = `${q1} && status_code == 404`;
  assert.equal(await o.page.inputValue('[data-testid=kfl-input]'), q2);
  assert.equal(urlQuery(o.page), q2);
  await waitRows(o.page, await countOf(q2));
  // A header value in the detail panel.
  await o.page.locator('.row .time').first().click();
  await o.page.locator('[data-testid=request-headers] .fv', { hasText: 'shop.demo.local' }).click();
  const q3 = `${q2} && request.headers["host"] == "shop.demo.local"`;
  assert.equal(await o.page.inputValue('[data-testid=kfl-input]'), q3);
  await waitRows(o.page, await countOf(q3));
  // Clear, then a DNS question type: DNS's own field.
  await o.page.click('text=Clear');
  assert.equal(urlQuery(o.page), null);
  await waitRows(o.page, await countOf(''));
  const dq = '"api.demo.local" in dns_questions';
  await applyFilter(o.page, dq);
  await waitRows(o.page, await countOf(dq));
  await o.page.locator('.row .method', { hasText: 'AAAA' }).first().click();
  const dq2 = `${dq} && "AAAA" in dns_question_types`;
  assert.equal(await o.page.inputValue('[data-testid=kfl-input]'), dq2);
  await waitRows(o.page, await countOf(dq2));
  await o.done();
});

test(
  'the service map draws the workloads and calls of /api/stats by edge (service-edge)',
  { skip },
  async () => {
    const r = await api<StatsResponse>('/api/stats', {
      groupBy: 'service-edge',
      bucketSec: '0',
    });
    const groups = r.result.groups;
    assert.ok(groups.length > 2, `edges: ${groups.map((g) => g.key).join(', ')}`);
    const ends = (g: (typeof groups)[number]): [string, string] => {
      const l = g.labels as { src?: string; dst?: string };
      return [l.src!, l.dst!];
    };
    const nodes = new Set(groups.flatMap(ends));
    const o = await open('?view=map&by=service');
    const counts = o.page.locator('[data-testid=map-counts]');
    await counts.waitFor();
    await o.page.waitForFunction(
      (n) =>
        (globalThis as unknown as InPage).document.querySelector('[data-testid=map-counts]')
          ?.dataset.edges === String(n),
      groups.length,
    );
    assert.equal(await counts.getAttribute('data-nodes'), String(nodes.size));
    const drawn: (string | null)[] = [];
    for (const el of await o.page.locator('[data-node]').all())
      drawn.push(await el.getAttribute('data-node'));
    assert.deepEqual(new Set(drawn), nodes);
    for (const g of groups) {
      const edge = o.page.locator(`g[data-edge="${g.key}"]`);
      assert.equal(await edge.getAttribute('data-calls'), String(g.calls), g.key);
      assert.equal(await edge.getAttribute('data-from'), ends(g)[0]);
      assert.equal(await edge.getAttribute('data-to'), ends(g)[1]);
      const label = (await o.page.locator(`text[data-label="${g.key}"]`).textContent())!;
      assert.ok(label.startsWith(g.labels.protocol ?? '?'), label);
      if (g.latency !== null) assert.ok(label.includes(`p95 ${fmtDuration(g.latency.p95)}`), label);
    }
    // An edge opens the list filtered to its calls.
    const busiest = groups[0]!;
    await o.page.locator(`text[data-label="${busiest.key}"]`).click();
    await o.page.waitForFunction(
      () =>
        new URL((globalThis as unknown as InPage).location.href).searchParams.get('view') === null,
    );
    const q = urlQuery(o.page)!;
    assert.ok(q.startsWith(`protocol == "${busiest.labels.protocol}"`), q);
    await waitRows(o.page, busiest.calls);
    // Grouped by node: one node per worker.
    await o.page.goto(stack().url + '?view=map&by=node');
    await o.page.waitForFunction(
      () =>
        (globalThis as unknown as InPage).document.querySelector('[data-testid=map-counts]')
          ?.dataset.nodes === '2',
    );
    await o.done();
  },
);

test('the stats view shows the numbers of /api/stats', { skip }, async () => {
  const r = await api<StatsResponse>('/api/stats', {
    groupBy: 'endpoint',
    bucketSec: '1',
    q: 'http',
  });
  const t = r.result.total;
  const o = await open(`?view=stats&bucket=1&q=http`);
  const calls = o.page.locator('[data-testid=stat-calls] .tile-v');
  await calls.waitFor();
  assert.equal(await calls.textContent(), fmtCount(t.calls));
  assert.equal(
    await o.page.textContent('[data-testid=stat-p95] .tile-v'),
    fmtDuration(t.latency!.p95),
  );
  assert.equal(
    await o.page.textContent('[data-testid=stat-p99] .tile-v'),
    fmtDuration(t.latency!.p99),
  );
  const rows = o.page.locator('[data-testid=top-endpoints] tbody tr');
  assert.equal(await rows.count(), Math.min(r.result.groups.length, 25));
  for (const [i, g] of r.result.groups.slice(0, 5).entries()) {
    assert.equal(await rows.nth(i).getAttribute('data-key'), g.key);
    assert.equal(await rows.nth(i).locator('[data-col=calls]').textContent(), fmtCount(g.calls));
  }
  // One point per bucket in the charts.
  const points = await o.page
    .locator('[data-testid=chart-rate] [data-series=rate] polyline')
    .getAttribute('points');
  const n = t.series.length;
  if (n > 1) assert.equal(points!.trim().split(' ').length, n);
  await o.done();
});

test('worker health: each worker up, with its counters', { skip }, async () => {
  const w = await api<WorkersResponse>('/api/workers');
  assert.equal(w.workers.length, 2);
  const o = await open('?view=workers');
  await o.page.locator('[data-testid=workers] tbody tr').nth(1).waitFor();
  for (const worker of w.workers) {
    const row = o.page.locator(`[data-worker="${worker.name}"]`);
    assert.equal(await row.getAttribute('data-up'), 'true');
    assert.equal(
      await row.locator('[data-col=packets]').textContent(),
      fmtCount(worker.capture!.receivedPackets),
    );
    assert.equal(
      await row.locator('[data-col=entries]').textContent(),
      fmtCount(worker.capture!.entries),
    );
  }
  await o.page.waitForFunction(() =>
    (globalThis as unknown as InPage).document
      .querySelector('[data-testid=health]')
      ?.textContent?.includes('2/2 workers up'),
  );
  await o.done();
});

test(
  'a worker restarts while the page is open: health shows it down, then up; its new entries arrive live',
  { skip },
  async () => {
    const q = 'node_name == "golden" && path == "/api/checkout"';
    const o = await open(`?q=${encodeURIComponent(q)}`);
    const before = await countOf(q);
    await waitRows(o.page, before);
    const health = (text: string) =>
      o.page.waitForFunction(
        (t) =>
          (globalThis as unknown as InPage).document
            .querySelector('[data-testid=health]')
            ?.textContent?.includes(t) === true,
        text,
        { timeout: 20_000 },
      );
    assert.deepEqual(await command({ op: 'stop-golden' }), { stopped: true });
    await health('1/2 workers up');
    assert.deepEqual(await command({ op: 'start-golden' }), { started: true });
    await health('2/2 workers up');
    // No reload: the hub re-opened its upstream stream to the restarted worker by itself.
    const until = Date.now() + 20_000;
    let got = 0;
    while (got <= before && Date.now() < until) {
      await push({ count: 20, node: 'golden' });
      await o.page.waitForTimeout(300);
      got = await rowCount(o.page);
    }
    assert.ok(got > before, `no live entry from the restarted worker (${got} rows)`);
    assert.equal(got, await countOf(q), 'the list holds exactly what the API has');
    await o.done();
  },
);

test('live: entries stored by a worker arrive in the list, filtered', { skip }, async () => {
  const q = 'path == "/api/checkout"';
  const o = await open(`?q=${encodeURIComponent(q)}`);
  const before = await countOf(q);
  await waitRows(o.page, before);
  // The shop capture has one checkout among its entries; push it ten times over.
  const perCapture = await countOf('node_name == "shop"');
  assert.equal(perCapture, 20, 'nothing pushed yet: the shop capture’s entries');
  await push({ count: 10 * perCapture });
  await waitRows(o.page, before + 10);
  assert.equal(await countOf(q), before + 10);
  // Newest on top: the newest stays first as entries arrive.
  await o.page.click('[data-testid=order]');
  await push({ count: perCapture });
  await waitRows(o.page, before + 11);
  const newest = (await api<EntriesResponse>('/api/entries', { q, limit: '1' })).entries[0]!;
  assert.equal(await o.page.locator('.row').first().getAttribute('data-id'), String(newest.id));
  // Paused, nothing is added; resumed, new entries arrive again.
  await o.page.click('[data-testid=pause]');
  await o.page.locator('[data-testid=phase]', { hasText: 'paused' }).waitFor();
  await push({ count: perCapture });
  await o.page.waitForTimeout(500);
  assert.equal(await rowCount(o.page), before + 11);
  await o.page.click('[data-testid=pause]');
  await o.page.locator('[data-testid=phase]', { hasText: 'live' }).waitFor();
  // The resume travels to the server over the socket: entries published before it arrives are
  // not sent (they are in history), so keep pushing until new ones come in.
  const until = Date.now() + 15_000;
  while ((await rowCount(o.page)) <= before + 11 && Date.now() < until) {
    await push({ count: perCapture });
    await o.page.waitForTimeout(300);
  }
  assert.ok((await rowCount(o.page)) > before + 11, 'entries arrive again after resume');
  await o.done();
});

test(
  `stress: ${STRESS_RATE} entries/s for ${STRESS_SECONDS} s, the page stays responsive`,
  { skip },
  async () => {
    const o = await open();
    const start = await countOf('');
    await waitRows(o.page, start);
    // Input delay of every click (event creation → handler) and long tasks, measured in the page.
    await o.page.evaluate(() => {
      const w = globalThis as unknown as InPage;
      w.delays = [];
      w.longest = 0;
      w.document.addEventListener(
        'click',
        (ev) => w.delays.push(performance.now() - ev.timeStamp),
        true,
      );
      new w.PerformanceObserver((l) => {
        for (const e of l.getEntries()) w.longest = Math.max(w.longest, e.duration);
      }).observe({ type: 'longtask', buffered: false });
    });
    // Clicks at a fixed place (the brand: inert, and not moving while the rows change).
    const brand = (await o.page.locator('.brand').boundingBox())!;
    let pushing = true;
    const pushed = push({ rate: STRESS_RATE, seconds: STRESS_SECONDS }).finally(
      () => (pushing = false),
    );
    while (pushing) {
      await o.page.mouse.click(brand.x + 10, brand.y + brand.height / 2);
      await o.page.waitForTimeout(100);
    }
    const r = await pushed;
    assert.equal(r.pushed, STRESS_RATE * STRESS_SECONDS);
    // Every entry arrived or was reported dropped by the server (never silently lost).
    const want = start + r.pushed;
    await o.page
      .waitForFunction(
        (n) => {
          const { document } = globalThis as unknown as InPage;
          const c = Number(document.querySelector('[data-testid=row-count]')?.dataset.count);
          const d = Number(
            document.querySelector('[data-testid=server-dropped]')?.dataset.count ?? 0,
          );
          return c + d === n;
        },
        want,
        { timeout: 20_000 },
      )
      .catch(async (err: unknown) => {
        const dropped = await o.page
          .getAttribute('[data-testid=server-dropped]', 'data-count')
          .catch(() => null);
        throw new Error(`rows ${await rowCount(o.page)} + dropped ${dropped} ≠ ${want}`, {
          cause: err,
        });
      });
    const dropped = Number(
      (await o.page
        .getAttribute('[data-testid=server-dropped]', 'data-count', { timeout: 100 })
        .catch(() => null)) ?? 0,
    );
    const { delays, longest } = await o.page.evaluate(() => {
      const w = globalThis as unknown as InPage;
      return { delays: w.delays, longest: w.longest };
    });
    const worst = Math.max(...delays);
    console.log(
      `stress: ${r.pushed} entries in ${r.seconds.toFixed(1)} s (${(r.pushed / r.seconds).toFixed(0)}/s); ` +
        `rows ${await rowCount(o.page)}, dropped by the server ${dropped}; ` +
        `${delays.length} clicks, worst input delay ${worst.toFixed(0)} ms, longest task ${longest.toFixed(0)} ms`,
    );
    assert.ok(delays.length >= 5, `clicks measured: ${delays.length}`);
    assert.ok(worst < MAX_INPUT_DELAY_MS, `worst click delay ${worst.toFixed(0)} ms`);
    assert.equal(dropped, 0, 'the page kept up with the stream');
    assert.equal(await rowCount(o.page), want);
    // Still usable: a row opens its detail.
    await o.page.locator('.row .time').last().click();
    await o.page.locator('[data-testid=detail-summary]').waitFor();
    await o.done();
  },
);
