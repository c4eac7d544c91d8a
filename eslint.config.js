// ESLint flat config. Import restrictions encode DESIGN.md's dependency rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ({
  'no-restricted-imports': ['error', { patterns: patterns.map((group) => ({ group, message: 'DESIGN.md dependency rule' })) }],
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.bench/**', '**/testdata/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // tap/ imports only entry/ and util/ (and itself).
  { files: ['src/tap/**/*.ts'], rules: restrict([['**/cmd/**', '**/kube/**', '**/config/**', '**/output/**', '**/ui/**', '**/query/**', '**/store/**', '**/enrich/**', '**/worker/**', '**/hub/**', '**/mcp/**']]) },
  // entry/ is the shared model: imports nothing from the project but util/.
  { files: ['src/entry/**/*.ts'], rules: restrict([['**/tap/**', '**/cmd/**', '**/kube/**', '**/config/**', '**/output/**', '**/ui/**']]) },
  // nothing imports cmd/; only cmd/ imports ui/.
  { files: ['src/**/*.ts'], ignores: ['src/cmd/**'], rules: restrict([['**/cmd/**', '**/ui/**']]) },
  { files: ['**/*.js', '**/*.mjs'], languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } } },
);
