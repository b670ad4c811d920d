import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bash, startStack, type Stack } from './support/stack.js';

/** Debian's Chromium; `.ci/run` installs it when it is missing. */
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOT = path.resolve(import.meta.dirname, '../../test-results/dashboard.png');
const USER = 'operator';
const PASSWORD = 'dashboard-password-1';

// In CI a missing browser fails the test; elsewhere it is skipped, and the name says why.
const missing = !existsSync(CHROMIUM) && !process.env.CI;
const because = missing ? ` (skipped: no ${CHROMIUM}; apt-get install chromium)` : '';

describe('the dashboard in a real browser', () => {
  let stack: Stack;
  let profile: string;
  let browser: BrowserContext | undefined;
  beforeAll(async () => {
    stack = await startStack({ env: { KUBE_WORKER_DASHBOARD_USER: USER, KUBE_WORKER_DASHBOARD_PASSWORD: PASSWORD } });
    profile = await mkdtemp(path.join(os.tmpdir(), 'kw-chromium-'));
  });
  afterAll(async () => {
    await browser?.close();
    await rm(profile, { recursive: true, force: true });
    await stack.close();
  });

  it.skipIf(missing)(`signs in, sees the default queue and a completed operation, and saves a screenshot${because}`, { timeout: 180_000 }, async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: .ci/run installs it (apt-get install -y chromium)`);
    const ticket = await stack.submit(bash('echo shown on the dashboard', { ticket: 'dashboard-browser-1' }));
    expect((await stack.waitUntilDone(ticket)).state).toBe('succeeded');

    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: ARGS,
      headless: true,
      httpCredentials: { username: USER, password: PASSWORD },
      viewport: { width: 1280, height: 800 },
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(60_000);

    const overview = await page.goto(`${stack.url}/dashboard`);
    expect(overview?.status()).toBe(200);
    await page
      .getByRole('link', { name: /default/ })
      .first()
      .waitFor();

    await page.goto(`${stack.url}/dashboard/queue/default?status=completed`);
    await page.getByText(ticket).first().waitFor();
    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });
});
