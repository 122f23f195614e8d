import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NGINX_TEMP_DIRS, nginxConfig } from './services/nginx';

// docker/nginx.conf is the configuration `pnpm cluster` and the cluster tests give nginx, for the three hub nodes of
// docker-compose.yml. `tsx src/cluster/compose-files.ts` writes it; a test checks the committed file is this one.

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where nginx keeps its pid, log and temporary files inside its container. */
export const COMPOSE_NGINX_DIR = '/tmp/fl-nginx';
export const COMPOSE_NODES = ['hub1', 'hub2', 'hub3'];

export function composeNginxConfig(): string {
  return nginxConfig(COMPOSE_NGINX_DIR, { port: 80, upstreams: COMPOSE_NODES.map((n) => `${n}:5000`) });
}

/** The shell command of the compose file's nginx service: the folders the configuration names, then nginx. */
export function composeNginxCommand(): string {
  // nginx's workers run unprivileged: they must be able to write the temporary folders.
  return `mkdir -p ${NGINX_TEMP_DIRS.map((d) => `${COMPOSE_NGINX_DIR}/temp/${d}`).join(' ')} && chmod -R 777 ${COMPOSE_NGINX_DIR} && exec nginx -c /etc/fl/nginx.conf`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(resolve(repoRoot, 'docker/nginx.conf'), composeNginxConfig());
  console.log('wrote docker/nginx.conf');
}
