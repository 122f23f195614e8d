#!/usr/bin/env node
// Runs every suite (typecheck, lint, vitest, Playwright), then prints one plain
// "N passed, N failed" line summing them all, and exits non-zero on any failure.
//
// The suites run in three streams side by side, each one process at a time, so that a 2-core machine keeps both
// cores busy: (1) typecheck, lint and most vitest files; (2) the two long learning tests (whole federated runs,
// minutes each); (3) Playwright. Within a stream everything runs in order, as before. Each step's output goes to
// test-logs/<step>.log and is printed whole when the step ends, so the streams' lines never interleave.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';

// Not test-results/: Playwright empties that folder when it starts.
mkdirSync('test-logs', { recursive: true });
const totals = { passed: 0, failed: 0, skipped: 0 };
const lines = [];
const started = Date.now();
const elapsed = (from) => `${Math.round((Date.now() - from) / 1000)} s`;

/** The vitest files that each run whole federated trainings for minutes: their own stream. */
const LONG_VITEST = ['hub/src/__tests__/server-optimizers.test.ts', 'hub/src/__tests__/chest-defaults.test.ts'];

function runNow(label, command, args, env = {}) {
  console.log(`\n=== ${label}: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status ?? 1;
}

/** Runs one step with its output in test-logs/<name>.log, printed when it ends; resolves with its exit status. */
function step(name, label, command, args, env = {}) {
  const from = Date.now();
  const path = `test-logs/${name}.log`;
  console.log(`--- started ${label} (${elapsed(started)} into the run)`);
  return new Promise((resolve) => {
    const log = createWriteStream(path);
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    const finish = (status) => {
      log.end(() => {
        console.log(`\n=== ${label}: ${command} ${args.join(' ')} (${elapsed(from)}, exit ${status})`);
        if (existsSync(path)) process.stdout.write(readFileSync(path, 'utf8'));
        resolve(status);
      });
    };
    child.on('error', (error) => {
      log.write(`could not start ${command}: ${error.message}\n`);
      finish(1);
    });
    child.on('close', (code) => finish(code ?? 1));
  });
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

async function check(name, label, command, args) {
  const ok = (await step(name, label, command, args)) === 0;
  totals[ok ? 'passed' : 'failed'] += 1;
  lines.push(`${label}: ${ok ? 'ok' : 'FAILED'}`);
}

async function vitest(name, label, files) {
  const output = `test-logs/${name}.json`;
  const status = await step(name, label, 'pnpm', ['exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${output}`, ...files]);
  const report = readJson(output);
  if (report) {
    totals.passed += report.numPassedTests;
    totals.failed += report.numFailedTests;
    totals.skipped += report.numPendingTests + report.numTodoTests;
    lines.push(`${label}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`);
  }
  if (status !== 0 && (!report || report.numFailedTests === 0)) {
    totals.failed += 1;
    lines.push(`${label}: exited ${status} without a failed test (a suite failed to load?)`);
  }
}

async function playwright() {
  const specs = existsSync('e2e') ? readdirSync('e2e').filter((f) => f.endsWith('.spec.ts')) : [];
  if (!specs.length) return;
  // The pages and sprites were built before the streams started: the e2e hub starts without building them again.
  const status = await step('e2e', 'end-to-end tests (Playwright, headless Chromium)', 'pnpm', ['exec', 'playwright', 'test', '--reporter=list,json'], {
    PLAYWRIGHT_JSON_OUTPUT_NAME: 'test-results/e2e.json',
    START_SKIP_BUILD: '1',
  });
  const e2e = readJson('test-results/e2e.json');
  if (e2e?.stats) {
    const { expected, unexpected, flaky, skipped } = e2e.stats;
    totals.passed += expected + flaky;
    totals.failed += unexpected;
    totals.skipped += skipped;
    lines.push(`playwright: ${expected + flaky} passed, ${unexpected} failed${flaky ? ` (${flaky} flaky)` : ''}`);
  }
  if (status !== 0 && (!e2e?.stats || e2e.stats.unexpected === 0)) {
    totals.failed += 1;
    lines.push(`playwright: exited ${status} without a failed test (the web server did not start?)`);
  }
}

if (process.env.SKIP_INSTALL !== '1') {
  if (runNow('install (pnpm, Chromium, locked dependencies)', 'bash', ['scripts/install.sh', '--browser']) !== 0) {
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}
// Sprites and pages once, before anything reads them.
if (runNow('build (MNIST sprites, client and dashboard pages)', 'node', ['scripts/start.mjs', '--build-only']) !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}

/** A stream that throws is one failure, and the others still finish. */
const stream = (name, run) =>
  run().catch((error) => {
    totals.failed += 1;
    lines.push(`${name}: the test runner itself failed: ${error?.stack ?? error}`);
  });

await Promise.all([
  stream('typecheck, lint, vitest', async () => {
    await check('typecheck', 'typecheck', 'pnpm', ['typecheck']);
    await check('lint', 'lint', 'pnpm', ['lint']);
    await vitest('vitest', 'vitest', LONG_VITEST.flatMap((file) => ['--exclude', file]));
  }),
  stream('vitest (long learning tests)', () => vitest('vitest-long', 'vitest (long learning tests)', LONG_VITEST)),
  stream('playwright', playwright),
]);

console.log(`\n${lines.join('\n')}`);
console.log(`(all suites in ${elapsed(started)})`);
console.log(`${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exit(totals.failed > 0 || totals.skipped > 0 ? 1 : 0);
