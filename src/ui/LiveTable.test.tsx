import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import { LiveApp, LiveTable, typing } from './LiveTable.tsx';
import { LiveStore, RENDER_INTERVAL_MS, type LiveStatus } from './store.ts';
import { lines, row, tick } from '../../test/helpers/ui-rows.ts';

const status: LiveStatus = {
  workersUp: 1,
  workersDown: [],
  entriesPerSec: 12.5,
  dropped: 0,
  paused: false,
  filter: '',
  url: 'http://127.0.0.1:8899',
};

/** Every frame line fits the width, and the frame is not empty. */
function assertFrame(frame: string | undefined, width: number, height: number): string[] {
  const ls = lines(frame);
  assert.ok(ls.length > 0, 'empty frame');
  assert.equal(ls.length, height, `frame height:\n${ls.join('\n')}`);
  for (const l of ls) assert.ok(Array.from(l).length <= width, `line wider than ${width}: ${l}`);
  return ls;
}

const mixed = [
  row(1),
  row(2, {
    protocol: 'dns',
    src: { ip: '10.0.0.1', port: 53000, name: 'frontend-7d9f' },
    dst: { ip: '10.0.0.53', port: 53, name: 'kube-dns' },
    summary: 'A orders.shop.svc.cluster.local',
    status: 3,
    statusClass: 'client',
    statusText: 'NXDOMAIN',
    elapsed: 850,
  }),
  row(3, {
    summary: 'POST /api/checkout',
    status: 503,
    statusClass: 'server',
    statusText: '503',
    elapsed: 2_500_000,
  }),
  row(4, {
    protocol: 'ws',
    summary: '→ text 12B',
    status: undefined,
    statusClass: undefined,
    statusText: '',
    elapsed: undefined,
  }),
  row(5, {
    src: { ip: 'fd00::1', port: 51000 },
    dst: { ip: 'fd00::2', port: 443 },
    summary: 'GET /a/very/long/path/that/does/not/fit/in/the/summary/column?with=query&and=more',
  }),
];

test('LiveTable at width 100: header, rows oldest → newest, status line', () => {
  const { lastFrame, unmount } = render(
    <LiveTable rows={mixed} width={100} height={10} status={status} />,
  );
  const ls = assertFrame(lastFrame(), 100, 10);
  assert.match(ls[0]!, /^TIME \(UTC\)\s+PROTO\s+SRC → DST\s+SUMMARY\s+STATUS\s+LATENCY$/);
  // Rows in order, newest (id 5) last, right above the blank fill and the status line.
  assert.match(
    ls[1]!,
    /^22:00:01\.234 http\s+10\.0\.0\.1:40001 → 10\.0\.0\.2:8080\s+GET \/api\/orders\/1\s+200\s+1\.5ms$/,
  );
  assert.match(
    ls[2]!,
    /dns\s+frontend-7d9f → kube-dns\s+A orders\.shop\.svc\.cluster\.local\s+NXDOMAIN\s+850µs$/,
  );
  assert.match(ls[3]!, /POST \/api\/checkout\s+503\s+2\.50s$/);
  assert.match(ls[4]!, /ws\s+.*→ text 12B\s*$/);
  assert.match(ls[5]!, /\[fd00::1\]:51000 → \[fd00::2\]:443/);
  assert.match(ls[5]!, /GET \/a\/very\/long\/path.*…\s+200\s+1\.5ms$/, 'long summary cut with …');
  assert.match(
    ls[9]!,
    /workers 1 up · 13 entries\/s · 0 dropped · no filter · http:\/\/127\.0\.0\.1:8899/,
  );
  unmount();
});

test('LiveTable at width 60: compact columns, every line cut to the width', () => {
  const { lastFrame, unmount } = render(
    <LiveTable
      rows={mixed}
      width={60}
      height={8}
      status={{ ...status, filter: 'http && status_code >= 500', dropped: 3, paused: true }}
    />,
  );
  const ls = assertFrame(lastFrame(), 60, 8);
  assert.match(ls[0]!, /^TIME\s+PROTO/);
  assert.match(ls[1]!, /^22:00:01 http/, 'seconds-only time in the compact layout');
  assert.match(ls[1]!, /200\s+1\.5ms$/, 'status and latency survive at 60 columns');
  assert.match(ls[2]!, /fron… → kube-…/);
  assert.match(ls[1]!, /^22:00:01 http {2}10\.0… → 10\.0\.… GET \/api\/orde… 200\s+1\.5ms$/);
  assert.match(ls[2]!, /NXDOMAIN\s+850µs$/);
  assert.match(ls[7]!, /^ PAUSED {2}● 1 up · 13\/s · 3 dropped · http && status_code >=…$/);
  unmount();
});

test('LiveTable keeps the newest rows at the bottom when there are more than fit', () => {
  const many = Array.from({ length: 40 }, (_, i) => row(i + 1));
  const { lastFrame, unmount } = render(
    <LiveTable rows={many} width={100} height={6} status={status} />,
  );
  const ls = assertFrame(lastFrame(), 100, 6);
  // header + 4 rows + status: rows 37..40.
  assert.deepEqual(
    ls.slice(1, 5).map((l) => /\/api\/orders\/(\d+)/.exec(l)?.[1]),
    ['37', '38', '39', '40'],
  );
  unmount();
});

test('LiveTable with no rows says it is waiting (never an empty frame)', () => {
  const { lastFrame, unmount } = render(
    <LiveTable rows={[]} width={60} height={5} status={{ ...status, filter: 'dns' }} />,
  );
  const ls = assertFrame(lastFrame(), 60, 5);
  assert.match(ls[1]!, /waiting for traffic matching dns/);
  unmount();
});

test('LiveTable shows the filter prompt with its error, and a notice', () => {
  const { lastFrame, unmount } = render(
    <LiveTable
      rows={mixed.slice(0, 2)}
      width={100}
      height={8}
      status={{ ...status, notice: 'stream disconnected, reconnecting' }}
      edit={{ text: 'http && nope', error: '1:9: unknown field nope' }}
    />,
  );
  const ls = assertFrame(lastFrame(), 100, 8);
  assert.match(ls[5]!, /stream disconnected, reconnecting/);
  assert.match(ls[6]!, /1:9: unknown field nope/);
  assert.match(ls[7]!, /^filter › http && nope/);
  unmount();
});

test('LiveApp: p pauses (table holds still), / edits the filter, q quits', async () => {
  const store = new LiveStore(status);
  store.add([row(1), row(2)]);
  const filters: string[] = [];
  let quits = 0;
  const { lastFrame, stdin, unmount } = render(
    <LiveApp
      store={store}
      width={100}
      height={8}
      onFilter={(q) => {
        filters.push(q);
        return Promise.resolve(q.includes('nope') ? '1:1: unknown field nope' : undefined);
      }}
      onQuit={() => quits++}
    />,
  );
  await tick(RENDER_INTERVAL_MS * 2);
  assert.match(assertFrame(lastFrame(), 100, 8).join('\n'), /orders\/2/);

  stdin.write('p');
  await tick(20);
  store.add(row(3));
  await tick(RENDER_INTERVAL_MS * 2);
  let frame = assertFrame(lastFrame(), 100, 8).join('\n');
  assert.match(frame, /PAUSED/);
  assert.doesNotMatch(frame, /orders\/3/, 'paused table does not move');

  stdin.write(' ');
  await tick(20);
  frame = assertFrame(lastFrame(), 100, 8).join('\n');
  assert.doesNotMatch(frame, /PAUSED/);
  assert.match(frame, /orders\/3/, 'resumed table shows what arrived meanwhile');

  stdin.write('/');
  await tick(20);
  for (const ch of 'nope') stdin.write(ch);
  await tick(20);
  stdin.write('\r');
  await tick(20);
  frame = assertFrame(lastFrame(), 100, 8).join('\n');
  assert.match(frame, /1:1: unknown field nope/);
  assert.match(frame, /filter › nope/);
  for (let i = 0; i < 4; i++) stdin.write('\x7f');
  for (const ch of 'http') stdin.write(ch);
  await tick(20);
  stdin.write('\r');
  await tick(20);
  assert.deepEqual(filters, ['nope', 'http']);
  frame = assertFrame(lastFrame(), 100, 8).join('\n');
  assert.match(frame, /filter: http/);
  assert.match(frame, /waiting for traffic matching http/, 'rows cleared for the new filter');

  stdin.write('q');
  await tick(20);
  assert.equal(quits, 1);
  unmount();
  store.dispose();
});

test('LiveApp: Ctrl-C quits, also from the filter prompt', async () => {
  const store = new LiveStore(status);
  let quits = 0;
  const { stdin, unmount } = render(
    <LiveApp store={store} width={60} height={5} onQuit={() => quits++} />,
  );
  await tick(20);
  stdin.write('/');
  await tick(20);
  stdin.write('\x03');
  await tick(20);
  assert.equal(quits, 1);
  unmount();
  store.dispose();
});

test('typing: keys that arrive together are edited in order; Enter submits', () => {
  assert.deepEqual(typing('http', ' && x'), { text: 'http && x', submit: false });
  assert.deepEqual(typing('http && nope', '\x7f\x7f\x7f\x7fdns'), {
    text: 'http && dns',
    submit: false,
  });
  assert.deepEqual(typing('', 'dns\rignored'), { text: 'dns', submit: true });
  assert.deepEqual(typing('a', '\x1b\x01b'), { text: 'ab', submit: false });
  assert.deepEqual(typing('', '\x7f'), { text: '', submit: false });
});
