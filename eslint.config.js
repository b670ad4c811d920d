import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/', '.kube-worker/', 'test/cluster/**/*.go'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
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
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/dispatcher/**', '**/executor/**', '**/cli/**'], message: 'core depends on nothing of the project' }] }],
    },
  },
);
