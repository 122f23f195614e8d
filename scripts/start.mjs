#!/usr/bin/env node
// `npm start` / `pnpm start`: checks the port first (a second hub says so in one line, before any
// build), builds the MNIST sprites and both pages, then runs the hub and passes Ctrl-C on to it.
// Exits with the hub's status; a stop by Ctrl-C is a clean exit (0), so npm/pnpm print no error.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// `pnpm cluster [--nodes N] [--port P]`: the same builds, then several nodes behind nginx (hub/src/cluster/cli.ts).
const clusterArgs = process.argv[2] === '--cluster' ? process.argv.slice(3) : null;
const portArg = clusterArgs ? clusterArgs[clusterArgs.indexOf('--port') + 1] : undefined;
const port = Number(clusterArgs ? (clusterArgs.includes('--port') ? portArg : 8080) : (process.env.PORT ?? 5000));
const host = process.env.HOST ?? '0.0.0.0';
const skipBuild = process.env.START_SKIP_BUILD === '1';

/** Resolves when nothing listens on the port (checked by listening on it for an instant). */
function portFree() {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', (error) => done(error.code !== 'EADDRINUSE'));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => done(true)));
  });
}

let child = null;
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    stopping = true;
    // A terminal's Ctrl-C reaches the whole process group; forward it anyway for `kill -INT <pid>`.
    if (child && child.exitCode === null) child.kill(signal);
    else if (!child) process.exit(0);
  });
}

/** Runs one step with inherited output; resolves with its exit code (or 0 when stopped by a signal we forwarded). */
function step(command, args, cwd) {
  return new Promise((done) => {
    // INIT_CWD: a relative DATA_DIR is taken from where the user ran the command, as under npm/pnpm.
    child = spawn(command, args, { cwd, stdio: 'inherit', env: { ...process.env, INIT_CWD: process.env.INIT_CWD ?? process.cwd() } });
    child.once('error', (error) => {
      console.error(`could not run ${command}: ${error.message}`);
      done(1);
    });
    child.once('exit', (code, signal) => {
      child = null;
      done(signal ? (stopping ? 0 : 1) : (code ?? 1));
    });
  });
}

const tsx = ['--import', 'tsx'];
const vite = (pkg) => [process.execPath, [join(root, pkg, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], join(root, pkg)];

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got ${process.env.PORT}`);
  process.exit(1);
}
if (!process.argv.includes('--build-only') && !(await portFree())) {
  console.error(clusterArgs ? `port ${port} is in use: choose another with --port` : `port ${port} is in use: is another hub running? set PORT`);
  process.exit(1);
}

const steps = skipBuild
  ? []
  : [
      [process.execPath, [...tsx, 'scripts/build-mnist.ts'], join(root, 'hub')],
      vite('web-client'),
      vite('dashboard'),
    ];
for (const [command, args, cwd] of steps) {
  const code = await step(command, args, cwd);
  if (stopping) process.exit(0);
  if (code !== 0) {
    console.error(`the build step failed (${code}); the hub was not started`);
    process.exit(code);
  }
}
// `--build-only`: the builds and nothing else (the Docker image's build stage, docker/build.sh).
if (process.argv.includes('--build-only')) {
  console.log('built the pages and the MNIST sprites');
  process.exit(0);
}
if (!skipBuild) console.log('built the pages; starting the hub');
const entry = clusterArgs ? ['src/cluster/cli.ts', ...clusterArgs] : ['src/server.ts'];
process.exit(await step(process.execPath, [...tsx, ...entry], join(root, 'hub')));
