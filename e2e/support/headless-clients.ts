/** Headless MNIST clients (the hub's simulator, Node on TF.js wasm) for specs that need more participants than tabs. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hubUrl } from './hub-api';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** `count` clients named `${name}-1..count` in one process, its output in `log`; leave() ends its process group. */
export function startHeadless(name: string, count: number, log: string): { leave(): Promise<void> } {
  const out = openSync(log, 'w');
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/sim/cli.ts', '--hub', hubUrl, '--clients', String(count), '--name', name], {
    cwd: join(repoRoot, 'hub'),
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  return {
    async leave() {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const exited = new Promise((done) => child.once('exit', done));
      process.kill(-child.pid, 'SIGTERM');
      await exited;
    },
  };
}
