import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './e2e/support/chromium';

/** The end-to-end hub: built pages, fresh storage, a known admin token. */
export const E2E_PORT = Number(process.env.E2E_PORT ?? 5199);
export const E2E_ADMIN_TOKEN = 'e2e-admin-token';
const dataDir = process.env.E2E_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'fl-e2e-'));
process.env.E2E_DATA_DIR = dataDir;

export default defineConfig({
  testDir: 'e2e',
  // One hub, one run at a time: the tests share it, so they run in order.
  workers: 1,
  fullyParallel: false,
  timeout: 300_000,
  expect: { timeout: 30_000 },
  reporter: process.env.CI ? [['list'], ['json', { outputFile: 'test-results/e2e.json' }]] : 'list',
  use: {
    baseURL: `http://localhost:${E2E_PORT}`,
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
    },
    trace: 'retain-on-failure',
  },
  webServer: {
    // `pnpm start`'s script without pnpm: builds the MNIST sprites and both pages, then runs the hub (pnpm exec may re-run an install).
    command: 'node scripts/start.mjs',
    url: `http://localhost:${E2E_PORT}/api/status`,
    timeout: 240_000,
    reuseExistingServer: false,
    env: { PORT: String(E2E_PORT), HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_TOKEN: E2E_ADMIN_TOKEN, LOG_LEVEL: 'warn' },
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
