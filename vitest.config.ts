import { defineConfig } from 'vitest/config';

// One project per kind of dependency: unit (none), integration (a real Redis), e2e (a real
// Kubernetes control plane from test/cluster), chart (helm and that control plane).
export default defineConfig({
  test: {
    reporters: process.env.CI ? ['verbose'] : ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // Operations go through a real Redis here too.
          globalSetup: ['test/integration/global-setup.ts', 'test/e2e/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
      { test: { name: 'chart', include: ['test/chart/**/*.test.ts'], globalSetup: ['test/e2e/global-setup.ts'], testTimeout: 120000, hookTimeout: 600000 } },
    ],
  },
});
