import { test } from 'node:test';
import assert from 'node:assert/strict';

import { compileKfl } from './compile.ts';
import { indexHints, type IndexHints } from './hints.ts';
import { buildCatalogue } from '../tap/dissectors/registry.ts';
import { entriesFromCapture } from '../tap/run.ts';
import type { Entry } from '../entry/model.ts';
import { replayCaptures } from '../../test/helpers/dissector-captures.ts';

const catalogue = buildCatalogue();
const hints = (src: string) => indexHints(compileKfl(src, { catalogue }));

test('top-level conjuncts give protocol and status hints', () => {
  assert.deepEqual(hints('http && status_code >= 500'), {
    protocols: ['http'],
    status: { min: 500 },
    exact: true,
  });
  assert.deepEqual(hints('status_code == 404 && http'), {
    protocols: ['http'],
    status: { min: 404, max: 404 },
    exact: true,
  });
  assert.deepEqual(hints('(http || dns) && 400 <= status_code && status_code < 500'), {
    protocols: ['http', 'dns'],
    status: { min: 400, max: 499 },
    exact: true,
  });
  assert.deepEqual(hints('dns && status_code == 3'), {
    protocols: ['dns'],
    status: { min: 3, max: 3 },
    exact: true,
  });
  assert.deepEqual(hints('tcp_conn && conn_state == "closed"'), { protocols: ['tcp'] });
  assert.deepEqual(hints('http and response.status >= 500'), {
    protocols: ['http'],
    status: { min: 500 },
    exact: true,
  });
  assert.deepEqual(hints('http'), { protocols: ['http'], exact: true });
  assert.deepEqual(hints('status_code >= 500'), { status: { min: 500 }, exact: true });
});

test('no hint where it would not be implied by the filter', () => {
  assert.deepEqual(hints(''), {});
  assert.deepEqual(hints('http || dns'), {});
  assert.deepEqual(hints('!http'), {});
  assert.deepEqual(
    hints('http && status_code < 400'),
    { protocols: ['http'] },
    'status 0 would match, and the filter must still run',
  );
  assert.deepEqual(hints('tcp && dst.port == 80'), {}, '`tcp` is the transport, many protocols');
  assert.deepEqual(hints('http ? status_code >= 500 : true'), {});
  assert.deepEqual(hints('(http && dns) || ws'), {});
});

function admits(h: IndexHints, e: Entry, status: number): boolean {
  if (h.protocols && !h.protocols.includes(e.protocol)) return false;
  if (h.status && (status < (h.status.min ?? -Infinity) || status > (h.status.max ?? Infinity)))
    return false;
  return true;
}

test('hints are sound: every entry a filter matches passes its hints (real captures)', async () => {
  const files = replayCaptures();
  const entries = (
    await Promise.all(files.map((f) => entriesFromCapture(f, { l4All: true })))
  ).flat();
  const statusField = catalogue.find((f) => f.name === 'status_code')!;
  const filters = [
    'http && status_code >= 500',
    'http && status_code >= 200 && status_code < 300',
    'dns && status_code == 3',
    '(http || ws) && status_code == 101',
    'status_code >= 400',
    'tcp_conn',
    'flow',
    'ws && ws_request',
    'http && method == "POST"',
  ];
  let matched = 0;
  for (const src of filters) {
    const f = compileKfl(src, { catalogue });
    const h = indexHints(f);
    for (const e of entries) {
      if (!f.matches(e)) continue;
      matched++;
      const status = (statusField.get(e) as number | undefined) ?? 0;
      assert.ok(
        admits(h, e, status),
        `${src}: entry ${e.id} (${e.protocol}) fails ${JSON.stringify(h)}`,
      );
    }
  }
  assert.ok(matched > 50, `matched ${matched}`);
});
