/**
 * The Helm chart is generated from src/kube/manifests.ts: (1) regenerating gives the committed
 * files byte for byte; (2) every template, rendered with a small renderer for the subset the
 * generator emits, parses as YAML and equals what `kubeshark tap` applies for the same config —
 * with the defaults and with a non-default values file.
 */
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { chartObjects, generateChart } from '../scripts/gen-helm-chart.ts';
import { defaultConfig, loadConfig, type ConfigTree } from '../src/config/load.ts';
import { releaseObjects, type K8sObject } from '../src/kube/manifests.ts';

const CHART = join(import.meta.dirname, '..', 'helm-chart');
const VERSION = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
    version: string;
  }
).version;

// ---- a renderer for the Go-template subset the generator emits ----

type Tok = { t: 'text'; s: string } | { t: 'act'; s: string };
type TNode =
  | { k: 'text'; s: string }
  | { k: 'expr'; e: string }
  | { k: 'if' | 'range'; e: string; body: TNode[] };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  const re = /\{\{(-?)\s*(.*?)\s*(-?)\}\}/g;
  let last = 0;
  let trimNext = false;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    let text = src.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (m[1] === '-') text = text.replace(/\s+$/, '');
    out.push({ t: 'text', s: text }, { t: 'act', s: m[2]! });
    trimNext = m[3] === '-';
    last = re.lastIndex;
  }
  let tail = src.slice(last);
  if (trimNext) tail = tail.replace(/^\s+/, '');
  out.push({ t: 'text', s: tail });
  return out;
}

function parseTemplate(toks: Tok[]): TNode[] {
  const root: TNode[] = [];
  const stack: TNode[][] = [root];
  for (const tok of toks) {
    const cur = stack[stack.length - 1]!;
    if (tok.t === 'text') cur.push({ k: 'text', s: tok.s });
    else if (tok.s === 'end') {
      stack.pop();
      assert.ok(stack.length > 0, 'unbalanced end');
    } else if (/^(if|range) /.test(tok.s)) {
      const [kw, ...rest] = tok.s.split(' ');
      const node = { k: kw as 'if' | 'range', e: rest.join(' '), body: [] as TNode[] };
      cur.push(node);
      stack.push(node.body);
    } else cur.push({ k: 'expr', e: tok.s });
  }
  assert.equal(stack.length, 1, 'unclosed block');
  return root;
}

interface Scope {
  values: unknown;
  dot: unknown;
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object' && v !== null) return Object.keys(v).length > 0;
  return v !== undefined && v !== null && v !== '' && v !== 0 && v !== false;
}

function term(s: string, scope: Scope): unknown {
  if (s === '.') return scope.dot;
  if (/^\d+$/.test(s)) return Number(s);
  if (s === '.Chart.AppVersion') return VERSION;
  if (s === '.Values') return scope.values;
  if (s.startsWith('.Values.')) {
    let cur: unknown = scope.values;
    for (const p of s.slice('.Values.'.length).split('.'))
      cur = (cur as Record<string, unknown> | undefined)?.[p];
    return cur;
  }
  throw new Error(`renderer: unsupported term ${s}`);
}

function call(fn: string, args: unknown[]): unknown {
  switch (fn) {
    case 'quote':
      return JSON.stringify(String(args[0]));
    case 'default':
      return truthy(args[1]) ? args[1] : args[0];
    case 'sha256sum':
      return createHash('sha256').update(String(args[0])).digest('hex');
    case 'toYaml':
      return stringify(args[0]).replace(/\n$/, '');
    case 'nindent': {
      const pad = ' '.repeat(args[0] as number);
      return (
        '\n' +
        (args[1] as string)
          .split('\n')
          .map((l) => pad + l)
          .join('\n')
      );
    }
    default:
      throw new Error(`renderer: unsupported function ${fn}`);
  }
}

function evaluate(expr: string, scope: Scope): unknown {
  let val: unknown;
  expr.split('|').forEach((seg, i) => {
    const words = seg.trim().split(/\s+/);
    const fnArgs = words.slice(1).map((w) => term(w, scope));
    if (i === 0) {
      val = words.length === 1 ? term(words[0]!, scope) : call(words[0]!, fnArgs);
    } else val = call(words[0]!, [...fnArgs, val]);
  });
  return val;
}

function renderNodes(nodes: TNode[], scope: Scope): string {
  let out = '';
  for (const n of nodes) {
    if (n.k === 'text') out += n.s;
    else if (n.k === 'expr') out += String(evaluate(n.e, scope));
    else if (n.k === 'if') {
      if (truthy(evaluate(n.e, scope))) out += renderNodes(n.body, scope);
    } else {
      for (const item of evaluate(n.e, scope) as unknown[])
        out += renderNodes(n.body, { ...scope, dot: item });
    }
  }
  return out;
}

function render(template: string, values: unknown): string {
  return renderNodes(parseTemplate(tokenize(template)), { values, dot: values });
}

// ---- comparison ----

/** ConfigMap config YAML compared as data, not text (toYaml formatting differs from `tap`). */
function normalise(o: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(o)) as K8sObject & { data?: Record<string, string> };
  if (copy.kind === 'ConfigMap' && copy.data?.['config.yaml'] !== undefined)
    (copy.data as Record<string, unknown>)['config.yaml'] = parse(copy.data['config.yaml']);
  return copy;
}

function templateFiles(): string[] {
  return readdirSync(join(CHART, 'templates'))
    .filter((f) => f.endsWith('.yaml'))
    .sort();
}

function compareWithTap(values: ConfigTree): void {
  const expected = chartObjects(releaseObjects(values, { version: VERSION }));
  const files = templateFiles();
  assert.equal(files.length, expected.length, 'one template per object');
  files.forEach((f, i) => {
    const rendered = render(readFileSync(join(CHART, 'templates', f), 'utf8'), values);
    const obj = parse(rendered) as unknown;
    assert.deepEqual(normalise(obj), normalise(expected[i]), `template ${f}`);
  });
}

test('helm-chart/ is what scripts/gen-helm-chart.ts generates (no drift)', () => {
  const files = generateChart();
  assert.ok(files.size >= 12);
  for (const [rel, text] of files) {
    assert.equal(
      readFileSync(join(CHART, rel), 'utf8'),
      text,
      `${rel} differs: run npx tsx scripts/gen-helm-chart.ts`,
    );
  }
  const generatedTemplates = [...files.keys()].filter((k) => k.startsWith('templates/'));
  assert.deepEqual(
    readdirSync(join(CHART, 'templates')).sort(),
    generatedTemplates.map((k) => k.slice('templates/'.length)).sort(),
    'no stale template files',
  );
});

test('Chart.yaml and values.yaml: apiVersion v2, package version, values = config defaults', () => {
  const chart = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
  assert.equal(chart.apiVersion, 'v2');
  assert.equal(chart.name, 'kubeshark');
  assert.equal(chart.version, VERSION);
  assert.equal(chart.appVersion, VERSION);
  const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as ConfigTree;
  assert.deepEqual(values, defaultConfig());
});

test('templates rendered with default values equal the objects tap applies', () => {
  const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as ConfigTree;
  compareWithTap(values);
});

test('templates rendered with a non-default values file equal the objects tap applies', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ks-helm-'));
  try {
    const file = join(dir, 'values.yaml');
    writeFileSync(
      file,
      stringify({
        tap: {
          release: { name: 'ks2', namespace: 'observability' },
          proxy: { hub: { port: 9001 }, front: { port: 9002 }, worker: { srvPort: 9003 } },
          metrics: { port: 9004 },
          docker: { registry: 'registry.local:5000/team', tag: 'v9', imagePullPolicy: 'Always' },
          resources: {
            worker: { limits: { cpu: '3', memory: '3Gi' }, requests: { cpu: '1', memory: '1Gi' } },
          },
          probes: { hub: { initialDelaySeconds: 17, periodSeconds: 4, successThreshold: 2 } },
          tolerations: { workers: ['node-role.kubernetes.io/control-plane', 'dedicated'] },
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          labels: { team: 'net' },
          annotations: { 'example.com/owner': 'sre' },
        },
      }),
    );
    const cfg = loadConfig({ configPath: file, env: {} });
    compareWithTap(cfg);
    // The non-default values really reached the objects (the comparison is not vacuous).
    const ds = releaseObjects(cfg, { version: VERSION }).find((o) => o.kind === 'DaemonSet')!;
    const spec = (ds as { spec: { template: { spec: Record<string, unknown> } } }).spec.template
      .spec;
    assert.deepEqual(spec.nodeSelector, { 'kubernetes.io/os': 'linux' });
    assert.equal((spec.tolerations as unknown[]).length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('renderer: whitespace trimming, if, range, default, quote', () => {
  const out = render(
    'a:\n  {{- if .Values.l }}\n  l:\n    {{- range .Values.l }}\n    - {{ . | quote }}\n    {{- end }}\n  {{- end }}\nb: {{ .Values.t | default .Chart.AppVersion }}\n',
    { l: ['x', 'y'], t: '' },
  );
  assert.equal(out, `a:\n  l:\n    - "x"\n    - "y"\nb: ${VERSION}\n`);
  assert.equal(render('a:\n  {{- if .Values.l }}\n  l: 1\n  {{- end }}\n', { l: [] }), 'a:\n');
});
