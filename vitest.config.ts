import os from 'node:os';
import { defineConfig } from 'vitest/config';

// Test files wait on Redis, pods and child processes far more than they compute. vitest's default
// (one file per core but one) runs a single file at a time on a two-core machine; four at a time
// keeps such a machine busy. vitest runs the groups (sequence.groupOrder) one after another, and
// every project of a group must allow as many files at once: what must not overlap goes in a later
// group, never in a project of its own with fileParallelism off (vitest would run it last, alone).
const maxWorkers = Math.max(4, os.availableParallelism());

// One project per kind of dependency: unit (none), integration (a real Redis), e2e (a real
// Kubernetes control plane from test/cluster), chart (helm and that control plane), faults (Redis
// and processes killed under load; requests fuzzed from the OpenAPI document), faults-cluster (the
// kube-apiserver restarted while Jobs run), images (the test images and the product's own, run
// with Docker from the local registry).
export default defineConfig({
  test: {
    reporters: process.env.CI ? ['verbose'] : ['default'],
    maxWorkers,
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
        },
      },
      {
        test: {
          name: 'images',
          include: ['test/images/**/*.test.ts'],
          // Builds the images the first time (minutes), then finds them in the registry.
          globalSetup: ['test/images/global-setup.ts'],
          // testcontainers' Ryuk would be pulled from Docker Hub (the tests remove their containers
          // themselves); published ports are on 127.0.0.1, which "localhost" may not resolve to first.
          env: { TESTCONTAINERS_RYUK_DISABLED: 'true', TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1' },
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // After the cluster projects: Docker rewrites the host's iptables as its containers and
          // networks come and go, which the cluster's Service routing must not meet mid-test.
          sequence: { groupOrder: 1 },
        },
      },
      { test: { name: 'chart', include: ['test/chart/**/*.test.ts'], globalSetup: ['test/e2e/global-setup.ts'], testTimeout: 120000, hookTimeout: 600000 } },
      {
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          exclude: ['test/faults/apiserver-restart.test.ts'],
          // Real Redis for the fuzzer; the fault tests start a Redis and processes of their own to stop.
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 240_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'faults-cluster',
          include: ['test/faults/apiserver-restart.test.ts'],
          // The cluster is used only when it is already up (see test/faults/cluster-setup.ts).
          globalSetup: ['test/integration/global-setup.ts', 'test/faults/cluster-setup.ts'],
          testTimeout: 240_000,
          hookTimeout: 60_000,
          // After the cluster projects: the kube-apiserver restart would break their tests.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
