// ESLint flat config. Import restrictions encode DESIGN.md's dependency rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// For one file, the last matching block's `no-restricted-imports` wins, so each block lists the
// general rule (nothing imports cmd/; only cmd/ imports ui/) together with its own.
const general = ['**/cmd/**', '**/ui/**'];
const restrict = (patterns) => ({
  'no-restricted-imports': [
    'error',
    { patterns: [{ group: patterns, message: 'DESIGN.md dependency rule' }] },
  ],
});

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
  { files: ['src/**/*.ts', 'src/**/*.tsx'], ignores: ['src/cmd/**'], rules: restrict(general) },
  // front/app is browser code: it reaches the hub over the network only (types from api/ allowed).
  {
    files: ['src/front/app/**/*.ts', 'src/front/app/**/*.tsx'],
    rules: restrict([
      ...general,
      '**/tap/**',
      '**/store/**',
      '**/query/**',
      '**/worker/**',
      '**/hub/**',
      '**/kube/**',
      '**/config/**',
      'node:*',
    ]),
  },
  // tap/ (the capture engine in workers) imports only entry/ and util/.
  {
    files: ['src/tap/**/*.ts'],
    rules: restrict([
      ...general,
      '**/kube/**',
      '**/config/**',
      '**/output/**',
      '**/query/**',
      '**/store/**',
      '**/enrich/**',
      '**/worker/**',
      '**/hub/**',
      '**/mcp/**',
      '**/front/**',
    ]),
  },
  // entry/ is the shared model: it imports only util/.
  {
    files: ['src/entry/**/*.ts'],
    rules: restrict([...general, '**/tap/**', '**/kube/**', '**/config/**', '**/output/**']),
  },
  // enrich/ never imports kube/ (it receives a resolver).
  { files: ['src/enrich/**/*.ts'], rules: restrict([...general, '**/kube/**']) },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', module: 'writable' },
    },
  },
);
