import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

/** A port nobody listens on right now on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The first of `paths` that exists, or an error naming the Debian package that installs `name`. */
export function program(name: string, paths: string[], debianPackage: string): string {
  const found = paths.find((p) => existsSync(p));
  if (found) return found;
  throw new Error(`${name} is not installed (looked in ${paths.join(', ')}): install Debian's \`${debianPackage}\` package (bash scripts/install.sh does)`);
}

/** Polls `ready` every 100 ms until it holds; fails when the child exits first or after `timeoutMs`. */
export async function waitUntil(ready: () => Promise<boolean>, child: ChildProcess, output: () => string, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}): ${output().slice(-1500)}`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${what} did not come up within ${timeoutMs / 1000} s: ${output().slice(-1500)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Sends `signal` and resolves once the child is gone (SIGKILL after 10 s). */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(force);
}
