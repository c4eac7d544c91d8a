/**
 * No two production modules import each other in a circle (value imports; `import type` is
 * erased and cannot cycle at run time). Layering (eslint.config.js) keeps folders in order; this
 * keeps files inside a folder in order too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'testdata') sources(p, out);
    } else if (/\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name)) out.push(resolve(p));
  }
  return out;
}

test('no import cycles among the modules under src/', () => {
  const files = new Set(sources(join(root, 'src')));
  const graph = new Map<string, string[]>();
  const importRe = /^(?:import|export)\s+(?!type\b)[^'";]*?from\s+'(\.[^']+)'/gm;
  for (const f of files) {
    const deps: string[] = [];
    for (const m of readFileSync(f, 'utf8').matchAll(importRe)) {
      const p = resolve(dirname(f), m[1]!);
      if (files.has(p)) deps.push(p);
    }
    graph.set(f, deps);
  }
  assert.ok(graph.size > 100, `read ${graph.size} modules`);
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (n: string, stack: string[]): void => {
    state.set(n, 'open');
    stack.push(n);
    for (const d of graph.get(n) ?? []) {
      if (state.get(d) === 'open') {
        cycles.push(
          [...stack.slice(stack.indexOf(d)), d].map((x) => relative(root, x)).join(' → '),
        );
      } else if (!state.has(d)) visit(d, stack);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f, []);
  assert.deepEqual(cycles, []);
});
