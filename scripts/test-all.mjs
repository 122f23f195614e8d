#!/usr/bin/env node
// Runs every suite (typecheck, lint, vitest, Playwright), then prints one plain
// "N passed, N failed" line summing them all, and exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';

mkdirSync('test-results', { recursive: true });
const totals = { passed: 0, failed: 0, skipped: 0 };
const lines = [];

function run(label, command, args, env = {}) {
  console.log(`\n=== ${label}: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status ?? 1;
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

function check(label, command, args) {
  const ok = run(label, command, args) === 0;
  totals[ok ? 'passed' : 'failed'] += 1;
  lines.push(`${label}: ${ok ? 'ok' : 'FAILED'}`);
}

if (process.env.SKIP_INSTALL !== '1') {
  if (run('install (pnpm, Chromium, locked dependencies)', 'bash', ['scripts/install.sh', '--browser']) !== 0) {
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

check('typecheck', 'pnpm', ['typecheck']);
check('lint', 'pnpm', ['lint']);

const vitestStatus = run('unit and integration tests (vitest)', 'pnpm', [
  'exec', 'vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/vitest.json',
]);
const vitest = readJson('test-results/vitest.json');
if (vitest) {
  totals.passed += vitest.numPassedTests;
  totals.failed += vitest.numFailedTests;
  totals.skipped += vitest.numPendingTests + vitest.numTodoTests;
  lines.push(`vitest: ${vitest.numPassedTests} passed, ${vitest.numFailedTests} failed`);
}
if (vitestStatus !== 0 && (!vitest || vitest.numFailedTests === 0)) {
  totals.failed += 1;
  lines.push(`vitest: exited ${vitestStatus} without a failed test (a suite failed to load?)`);
}

const specs = existsSync('e2e') ? readdirSync('e2e').filter((f) => f.endsWith('.spec.ts')) : [];
if (specs.length) {
  const e2eStatus = run('end-to-end tests (Playwright, headless Chromium)', 'pnpm', ['exec', 'playwright', 'test', '--reporter=list,json'], {
    PLAYWRIGHT_JSON_OUTPUT_NAME: 'test-results/e2e.json',
  });
  const e2e = readJson('test-results/e2e.json');
  if (e2e?.stats) {
    const { expected, unexpected, flaky, skipped } = e2e.stats;
    totals.passed += expected + flaky;
    totals.failed += unexpected;
    totals.skipped += skipped;
    lines.push(`playwright: ${expected + flaky} passed, ${unexpected} failed${flaky ? ` (${flaky} flaky)` : ''}`);
  }
  if (e2eStatus !== 0 && (!e2e?.stats || e2e.stats.unexpected === 0)) {
    totals.failed += 1;
    lines.push(`playwright: exited ${e2eStatus} without a failed test (the web server did not start?)`);
  }
}

console.log(`\n${lines.join('\n')}`);
console.log(`${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exit(totals.failed > 0 || totals.skipped > 0 ? 1 : 0);
