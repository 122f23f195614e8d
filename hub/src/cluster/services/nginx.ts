import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { program, stopChild, waitUntil } from './processes';

// nginx of its own, from Debian's `nginx` (never the system service): one load balancer on `port` in front of
// the hub nodes, its configuration, logs and temporary files in a temporary directory removed afterwards.

export interface NginxOptions {
  /** Where it listens (all interfaces, so tabs on the LAN can reach it). */
  port: number;
  /** The hub nodes, as host:port. */
  upstreams: string[];
}

/** The folders under nginx's own directory that it writes its temporary files to. */
export const NGINX_TEMP_DIRS = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'];

export interface Nginx {
  url: string;
  stop(): Promise<void>;
}

/**
 * WebSocket-only Socket.IO needs no sticky sessions: any node serves any request, and every node takes training
 * clients (the leader's engine runs their rounds; the other nodes relay them). `least_conn` spreads the long-lived
 * WebSockets evenly over the nodes. A node that can neither run nor reach the engine (no leader yet) answers a
 * training client's handshake with 503, and a node that is down refuses the connection; both make nginx try the
 * next node (`proxy_next_upstream`), and `max_fails=0` keeps it from benching a node for either, since a node
 * serves again the moment a leader is there.
 */
export function nginxConfig(dir: string, { port, upstreams }: NginxOptions): string {
  const temp = (name: string) => join(dir, 'temp', name);
  return `worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
daemon off;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path ${temp('client_body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream hub_nodes {
    least_conn;
${upstreams.map((u) => `    server ${u} max_fails=0;`).join('\n')}
  }
  server {
    listen ${port};
    client_max_body_size 64m;
    location / {
      proxy_pass http://hub_nodes;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_next_upstream_tries 0;
    }
  }
}
`;
}

export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const binary = program('nginx', ['/usr/sbin/nginx', '/usr/bin/nginx'], 'nginx');
  const dir = mkdtempSync(join(tmpdir(), 'fl-nginx-'));
  // Run as root, nginx's workers run as nobody: they must be able to write its temporary files.
  for (const name of NGINX_TEMP_DIRS) mkdirSync(join(dir, 'temp', name), { recursive: true });
  for (const sub of ['', 'temp', ...NGINX_TEMP_DIRS.map((n) => `temp/${n}`)]) chmodSync(join(dir, sub), 0o777);
  const config = join(dir, 'nginx.conf');
  writeFileSync(config, nginxConfig(dir, options));
  const child = spawn(binary, ['-p', dir, '-c', config, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${options.port}`;
  try {
    await waitUntil(
      async () => {
        try {
          await fetch(`${url}/`, { signal: AbortSignal.timeout(1000) });
          return true;
        } catch {
          return false;
        }
      },
      child,
      () => output,
      `nginx on port ${options.port}`,
    );
  } catch (error) {
    await stopChild(child, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    async stop() {
      // SIGQUIT: a graceful stop of the master and its workers.
      await stopChild(child, 'SIGQUIT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
