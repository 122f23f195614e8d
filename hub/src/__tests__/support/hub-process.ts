import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HubStatus, RunDetail } from '@fl/shared';
import { ADMIN_TOKEN } from './test-hub';
import { waitFor } from './wait-for';

const hubRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export { freePort } from '../../cluster/services/processes';

/** A hub in its own process (`src/server.ts` under tsx), so that it can be killed like a crashed server. */
export interface HubProcess {
  url: string;
  child: ChildProcess;
  /** The last lines it wrote, for failure messages. */
  output(): string;
  /** Sends the signal and resolves once the process is gone. */
  kill(signal: NodeJS.Signals): Promise<void>;
  getJson<T>(path: string): Promise<T>;
  postJson(path: string, body: unknown, token?: string | null): Promise<{ status: number; json: unknown }>;
}

export async function startHubProcess({ port, dataDir, env = {} }: { port: number; dataDir: string; env?: Record<string, string> }): Promise<HubProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: hubRoot,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_TOKEN, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = `http://127.0.0.1:${port}`;

  const hub: HubProcess = {
    url,
    child,
    output: () => output,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    async getJson<T>(path: string) {
      const response = await fetch(`${url}${path}`);
      if (!response.ok) throw new Error(`GET ${path} answered ${response.status}`);
      return (await response.json()) as T;
    },
    async postJson(path, body, token = ADMIN_TOKEN) {
      const response = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      return { status: response.status, json: await response.json() };
    },
  };

  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`the hub process exited with ${child.exitCode}:\n${output.slice(-1500)}`);
      try {
        return (await fetch(`${url}/api/status`)).ok;
      } catch {
        return false;
      }
    },
    { timeoutMs: 90_000, intervalMs: 200, what: `the hub process on port ${port}` },
  );
  return hub;
}

export const processStatus = (hub: HubProcess) => hub.getJson<HubStatus>('/api/status');
export const processRun = (hub: HubProcess, id: string) => hub.getJson<RunDetail>(`/api/runs/${id}`);
