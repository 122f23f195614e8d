import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { composeNginxCommand, composeNginxConfig, COMPOSE_NODES } from '../cluster/compose-files';
import { freePort, stopChild } from '../cluster/services/processes';
import { waitFor } from './support/wait-for';

// No Docker engine runs on this machine, so the image is checked piece by piece: the Dockerfile's shape, its build
// stage's script run in a clean copy of the repository, the hub started from that copy the way the image's CMD
// starts it, and the compose file's nginx configuration against the one the cluster tests use.

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');

describe('the Docker image and compose file', () => {
  const folders: string[] = [];
  afterAll(() => {
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  it('is multi-stage on Node 20: the build stage runs docker/build.sh, the runtime runs the hub as the unprivileged node user', () => {
    const dockerfile = read('Dockerfile');
    const stages = dockerfile.split('\n').filter((l) => l.startsWith('FROM '));
    expect(stages).toEqual(['FROM node:20-bookworm-slim AS build', 'FROM node:20-bookworm-slim AS runtime']);
    const [build, runtime] = dockerfile.split('FROM node:20-bookworm-slim AS runtime');
    expect(build).toContain('RUN bash docker/build.sh');
    expect(runtime).toContain('COPY --from=build --chown=node:node /app /app');
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toContain('START_SKIP_BUILD=1');
    expect(runtime).toContain('CMD ["node", "scripts/start.mjs"]');
    expect(read('.dockerignore')).toContain('**/node_modules');
  });

  it('gives nginx in compose the configuration the cluster tests give it, and each node its own NODE_ID and NODE_URL', () => {
    expect(read('docker/nginx.conf')).toBe(composeNginxConfig());
    const compose = read('docker-compose.yml');
    expect(compose).toContain(`command: ["sh", "-c", "${composeNginxCommand()}"]`);
    for (const node of COMPOSE_NODES) {
      expect(compose).toContain(`NODE_ID: ${node}\n      NODE_URL: http://${node}:5000`);
    }
    for (const variable of ['DATABASE_URL: postgresql://', 'REDIS_URL: redis://redis:6379', 'ADMIN_TOKEN: ${ADMIN_TOKEN:?', 'TRUST_PROXY: "1"']) expect(compose).toContain(variable);
  });

  it("runs the build stage's script in a clean copy of the repository, and the hub it built starts as the image's CMD starts it", async () => {
    const copy = mkdtempSync(join(tmpdir(), 'fl-image-'));
    folders.push(copy);
    // What `COPY . .` puts in the build stage: the files git would commit, without .dockerignore's folders.
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: repoRoot, encoding: 'utf8' }).split('\0').filter(Boolean);
    for (const file of files) {
      if (!existsSync(join(repoRoot, file))) continue; // deleted in the working tree
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      cpSync(join(repoRoot, file), join(copy, file));
    }
    expect(existsSync(join(copy, 'node_modules'))).toBe(false);
    execFileSync('bash', ['docker/build.sh'], { cwd: copy, stdio: 'pipe', timeout: 600_000, env: { ...process.env, CI: 'true' } });
    for (const built of ['dashboard/dist/index.html', 'web-client/dist/index.html', 'hub/generated/mnist']) expect(existsSync(join(copy, built))).toBe(true);

    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'fl-image-data-'));
    folders.push(dataDir);
    const hub = spawn(process.execPath, ['scripts/start.mjs'], {
      cwd: copy,
      env: { ...process.env, NODE_ENV: 'production', START_SKIP_BUILD: '1', HOST: '127.0.0.1', PORT: String(port), DATA_DIR: dataDir, ADMIN_TOKEN: 'image-token' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    hub.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    hub.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor(
        async () => {
          if (hub.exitCode !== null) throw new Error(`the hub exited: ${output}`);
          return fetch(`${base}/api/models`).then((r) => r.ok, () => false);
        },
        { timeoutMs: 120_000, intervalMs: 200, what: 'the hub built in the clean copy' },
      );
      expect(await (await fetch(`${base}/`)).text()).toContain('<div id="root">');
      expect((await fetch(`${base}/client/`)).status).toBe(200);
      expect(await (await fetch(`${base}/api/status`)).json()).toMatchObject({ status: 'idle', run: null });
      expect((await fetch(`${base}/data/mnist/manifest.json`)).status).toBe(200);
    } finally {
      await stopChild(hub, 'SIGTERM');
    }
    expect(hub.exitCode).toBe(0);
    expect(output).toContain('hub stopped');
  }, 600_000);
});
