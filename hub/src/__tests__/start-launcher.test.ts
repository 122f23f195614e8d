import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMnistSprites } from '../../scripts/build-mnist';
import { defaultMnistDir } from '../data/mnist-files';
import { freePort } from './support/hub-process';
import { tempDataDir } from './support/test-hub';
import { waitFor } from './support/wait-for';

const launcher = resolve(dirname(fileURLToPath(import.meta.url)), '../../../scripts/start.mjs');

function launch(env: Record<string, string>) {
  const child = spawn(process.execPath, [launcher], { env: { ...process.env, HOST: '127.0.0.1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

describe('scripts/start.mjs', () => {
  it('on a busy port prints one plain line before building anything and exits 1', async () => {
    const port = await freePort();
    const busy: Server = createServer();
    await new Promise<void>((done) => busy.listen(port, '127.0.0.1', done));
    try {
      const started = Date.now();
      // No START_SKIP_BUILD: the check must come before the build, or this would take a minute.
      const run = launch({ PORT: String(port) });
      expect(await run.exited).toBe(1);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(run.output()).toEqual({ stdout: '', stderr: `port ${port} is in use: is another hub running? set PORT\n` });
    } finally {
      busy.close();
    }
  });

  it('stops the hub on SIGINT with "hub stopped" and exit code 0', async () => {
    await buildMnistSprites(defaultMnistDir(), { log: () => {} });
    const port = await freePort();
    const run = launch({ PORT: String(port), START_SKIP_BUILD: '1', DATA_DIR: tempDataDir(), LOG_LEVEL: 'warn' });
    await waitFor(
      async () => {
        if (run.child.exitCode !== null) throw new Error(`the launcher exited: ${JSON.stringify(run.output())}`);
        return fetch(`http://127.0.0.1:${port}/api/status`).then((r) => r.ok, () => false);
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'the hub to answer' },
    );
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.output().stdout.trim().split('\n').at(-1)).toBe('hub stopped');
    expect(run.output().stderr).toBe('');
  });
});
