import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/', '.kube-worker/', '.scratch/', 'test-results/', 'test/cluster/**/*.go'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests read JSON bodies of many shapes and assert on them; typing each would only restate the assertions.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['dispatcher/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/executor/**', '@kubernetes/client-node'], message: 'the dispatcher never imports the executor or the Kubernetes client' }] }],
    },
  },
  {
    files: ['executor/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['fastify'], patterns: [{ group: ['**/dispatcher/**'], message: 'the executor never imports the dispatcher' }] }],
    },
  },
  {
    files: ['client/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/dispatcher/**', '**/executor/**', '**/cli/**'], message: 'the published client stands alone: its generated types, and nothing of the server' }] }],
    },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/dispatcher/**', '**/executor/**', '**/cli/**'], message: 'core depends on nothing of the project' }] }],
    },
  },
);
