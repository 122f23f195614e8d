#!/usr/bin/env node
// Runs every suite (typecheck, lint, vitest, Playwright), then prints one plain
// "N passed, N failed" line summing them all, and exits non-zero on any failure.
//
// On a 2-core machine the two long learning tests each keep one core busy for minutes (TF.js on wasm, one
// thread), so they run beside the typecheck, the lint, the page build and the light vitest files; the tests that
// start hub processes, PostgreSQL and Redis then run alone, and Playwright last (its browsers use every core).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';

/** Single-threaded for minutes: they run beside the light files. */
const LEARNING = ['hub/src/__tests__/server-optimizers.test.ts', 'hub/src/__tests__/chest-defaults.test.ts'];
/** Several hub processes, PostgreSQL, Redis, nginx: they run alone. */
const PROCESSES = [
  'hub/src/__tests__/cluster.test.ts',
  'hub/src/__tests__/faults.test.ts',
  'hub/src/cluster/__tests__/relay.test.ts',
  'hub/src/__tests__/postgres-hub.test.ts',
];

mkdirSync('test-results', { recursive: true });
const totals = { passed: 0, failed: 0, skipped: 0 };
const lines = [];

/** Runs a command; with `prefix`, its output is piped and every line is prefixed (two streams share the log). */
function run(label, command, args, { env = {}, prefix = '' } = {}) {
  const say = (text) => process.stdout.write(prefix ? text.replace(/^(?=.)/gm, prefix) : text);
  say(`\n=== ${label}: ${command} ${args.join(' ')}\n`);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: prefix ? ['ignore', 'pipe', 'pipe'] : 'inherit', env: { ...process.env, ...env } });
    if (prefix) {
      for (const stream of [child.stdout, child.stderr]) {
        let rest = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk) => {
          const text = rest + chunk;
          const cut = text.lastIndexOf('\n') + 1;
          rest = text.slice(cut);
          if (cut) say(text.slice(0, cut));
        });
        stream.on('end', () => rest && say(`${rest}\n`));
      }
    }
    child.on('error', () => resolve(1));
    child.on('close', (code) => {
      say(`=== ${label}: exit ${code ?? 1} after ${Math.round((Date.now() - started) / 1000)} s\n`);
      resolve(code ?? 1);
    });
  });
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

async function check(label, command, args, options) {
  const ok = (await run(label, command, args, options)) === 0;
  totals[ok ? 'passed' : 'failed'] += 1;
  lines.push(`${label}: ${ok ? 'ok' : 'FAILED'}`);
}

async function vitest(label, name, filters, options) {
  const output = `test-results/${name}.json`;
  const status = await run(
    label,
    'pnpm',
    ['exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${output}`, ...filters],
    options,
  );
  const result = readJson(output);
  if (result) {
    totals.passed += result.numPassedTests;
    totals.failed += result.numFailedTests;
    totals.skipped += result.numPendingTests + result.numTodoTests;
    lines.push(`${label}: ${result.numPassedTests} passed, ${result.numFailedTests} failed`);
  }
  if (status !== 0 && (!result || result.numFailedTests === 0)) {
    totals.failed += 1;
    lines.push(`${label}: exited ${status} without a failed test (a suite failed to load?)`);
  }
}

const started = Date.now();
if (process.env.SKIP_INSTALL !== '1') {
  if ((await run('install (pnpm, Chromium, locked dependencies)', 'bash', ['scripts/install.sh', '--browser'])) !== 0) {
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

const exclude = [...LEARNING, ...PROCESSES].flatMap((file) => ['--exclude', file]);
await Promise.all([
  vitest('vitest: long learning tests', 'vitest-learning', LEARNING, { prefix: '[learning] ' }),
  (async () => {
    await check('typecheck', 'pnpm', ['typecheck']);
    await check('lint', 'pnpm', ['lint']);
    // Playwright's hub then starts without building (START_SKIP_BUILD below).
    await check('build the pages and the MNIST sprites', process.execPath, ['scripts/start.mjs', '--build-only']);
    await vitest('vitest: unit and integration tests', 'vitest', exclude);
  })(),
]);
await vitest('vitest: hub processes, PostgreSQL, Redis', 'vitest-processes', PROCESSES);

const specs = existsSync('e2e') ? readdirSync('e2e').filter((f) => f.endsWith('.spec.ts')) : [];
if (specs.length) {
  const e2eStatus = await run('end-to-end tests (Playwright, headless Chromium)', 'pnpm', ['exec', 'playwright', 'test', '--reporter=list,json'], {
    env: { PLAYWRIGHT_JSON_OUTPUT_NAME: 'test-results/e2e.json', START_SKIP_BUILD: '1' },
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
console.log(`all suites in ${Math.round((Date.now() - started) / 1000)} s`);
console.log(`${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exit(totals.failed > 0 || totals.skipped > 0 ? 1 : 0);
