// ESLint flat config. Import restrictions encode DESIGN.md's dependency rules.
import js from '@eslint/js';
import path from 'node:path';
import tseslint from 'typescript-eslint';

// DESIGN.md's dependency rules as allow-lists: the top-level folders under src/ each folder's
// production code may import (its own always). A folder not listed here may import nothing
// outside itself until it is added; nothing imports cmd/, only cmd/ imports ui/, front/app (the
// browser bundle) reaches the hub over the network only (its API types and the shared
// formatters are the exception). Tests may import anything. Modules only tests use live in
// test/helpers/ (one flat folder; `<area>-<what>.ts` when they serve one area of src/), never
// beside production code: a non-test file under src/ may import nothing under test/.
const ALLOWED = {
  util: [],
  entry: ['util'],
  // The default list of dissectors comes from their registry.
  config: ['tap', 'util'],
  tap: ['entry', 'util'],
  enrich: ['entry', 'tap', 'util'],
  query: ['entry', 'tap', 'util'],
  store: ['entry', 'tap', 'util'],
  output: ['entry', 'tap', 'util'],
  // Each record view redacts its own record with the kit redact/ lends it.
  redact: ['config', 'entry', 'tap', 'util'],
  api: ['config', 'entry', 'output', 'query', 'store', 'tap', 'util'],
  worker: ['api', 'config', 'enrich', 'entry', 'query', 'redact', 'store', 'tap', 'util'],
  hub: ['api', 'config', 'mcp', 'query', 'store', 'util', 'worker'],
  kube: ['api', 'config', 'enrich', 'entry', 'util', 'worker'],
  mcp: ['api', 'config', 'kube', 'store', 'util'],
  front: ['api', 'util'],
  'front/app': ['api', 'util'],
  ui: ['api', 'util'],
  // The commands wire everything together.
  cmd: [
    'api',
    'config',
    'enrich',
    'entry',
    'front',
    'hub',
    'kube',
    'mcp',
    'output',
    'query',
    'redact',
    'store',
    'tap',
    'ui',
    'util',
    'worker',
  ],
};
const srcDir = path.join(import.meta.dirname, 'src');
const testDir = path.join(import.meta.dirname, 'test');
const folderOf = (rel) => {
  const parts = rel.split(path.sep);
  if (parts.length < 2) return '(src)';
  return parts[0] === 'front' && parts[1] === 'app' ? 'front/app' : parts[0];
};
const layering = {
  meta: {
    type: 'problem',
    messages: {
      denied: '{{from}}/ may not import {{to}}/ (DESIGN.md dependency rules; allowed: {{allowed}})',
      testOnly:
        'production code may not import {{to}}: test/ is for tests (only *.test.ts files under src/ may import it)',
    },
  },
  create(context) {
    const file = context.filename;
    const rel = path.relative(srcDir, file);
    if (rel.startsWith('..') || /\.test\.tsx?$/.test(file)) return {};
    const from = folderOf(rel);
    const allowed = ALLOWED[from] ?? [];
    const check = (node, spec) => {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const resolved = path.resolve(path.dirname(file), spec);
      if (!path.relative(testDir, resolved).startsWith('..')) {
        const to = path.relative(import.meta.dirname, resolved);
        context.report({ node, messageId: 'testOnly', data: { to } });
        return;
      }
      const target = path.relative(srcDir, resolved);
      if (target.startsWith('..')) return;
      const to = folderOf(target);
      if (to === from || allowed.includes(to)) return;
      context.report({
        node,
        messageId: 'denied',
        data: { from, to, allowed: allowed.join(', ') || 'nothing' },
      });
    };
    return {
      ImportDeclaration: (n) => check(n, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
      ExportAllDeclaration: (n) => check(n, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
    };
  },
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.bench/**', '**/testdata/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    plugins: { local: { rules: { layering } } },
    rules: { 'local/layering': 'error' },
  },
  // The browser bundle has no Node built-ins.
  {
    files: ['src/front/app/**/*.ts', 'src/front/app/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['node:*'], message: 'browser code: no Node built-ins' }] },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', module: 'writable' },
    },
  },
);
