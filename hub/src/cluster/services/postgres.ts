import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

// A PostgreSQL server of its own, from Debian's binaries (never the system service), for a test file or for
// `pnpm cluster`: its data folder in a temporary directory, reachable only through a Unix socket in that
// directory (no TCP port to collide with), stopped and removed afterwards. Tuned for throwaway data (no fsync).

/** Debian installs the server binaries here, one folder per major version. */
const DEBIAN_ROOT = '/usr/lib/postgresql';

/** The folder holding initdb and pg_ctl: POSTGRES_BIN_DIR, else the newest version under `root`. */
export function findPostgresBinaries(root = DEBIAN_ROOT, fromEnv = process.env.POSTGRES_BIN_DIR): string {
  if (fromEnv) {
    if (existsSync(join(fromEnv, 'initdb')) && existsSync(join(fromEnv, 'pg_ctl'))) return fromEnv;
    throw new Error(`POSTGRES_BIN_DIR=${fromEnv} holds no initdb and pg_ctl`);
  }
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      `The PostgreSQL tests need a PostgreSQL server (initdb, pg_ctl, postgres), found none in ${root}/<version>/bin. ` +
        "Install Debian's `postgresql` package (bash scripts/install.sh does), or set POSTGRES_BIN_DIR to a folder holding them.",
    );
  }
  return join(root, versions[0]!, 'bin');
}

/** The server refuses to run as root: as root it runs as the `postgres` user (Debian's package creates it). */
function serverUser(): { uid: number; gid: number; name: string } | null {
  if (process.getuid?.() !== 0) return null;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error("Running as root, the PostgreSQL tests need the `postgres` user that Debian's `postgresql` package creates");
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid), name: 'postgres' };
}

export interface PostgresServer {
  /** A connection URL for a database on this server. */
  url(database: string): string;
  /** A new empty database (named `name`, else test_N); its URL. */
  createDatabase(name?: string): Promise<string>;
  /** One statement on a database, on a connection of its own. */
  query<R extends pg.QueryResultRow>(url: string, sql: string, params?: unknown[]): Promise<R[]>;
  stop(): Promise<void>;
}

const SUPERUSER = 'fl';
const PORT = 5432; // only names the socket file, in a folder of our own

export async function startPostgres(): Promise<PostgresServer> {
  const bin = findPostgresBinaries();
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'fl-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const run = (tool: string, args: string[]) => {
    const [command, argv] = user ? ['runuser', ['-u', user.name, '--', join(bin, tool), ...args]] : [join(bin, tool), args];
    const result = spawnSync(command, argv, { encoding: 'utf8' });
    if (result.status !== 0) {
      throw new Error(`${tool} failed (${result.error?.message ?? `exit ${result.status}`}): ${result.stderr || result.stdout}`);
    }
  };
  let pid: number | undefined;
  const kill = () => {
    // The test process is exiting without afterAll (a crash, a kill): take the server down with it.
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        // already gone
      }
    }
  };
  try {
    run('initdb', ['-D', data, '-U', SUPERUSER, '--auth=trust', '--no-locale', '--encoding=UTF8', '--no-sync']);
    const options = `-p ${PORT} -k ${dir} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    run('pg_ctl', ['start', '-w', '-D', data, '-l', join(dir, 'server.log'), '-o', options]);
    pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.once('exit', kill);
  } catch (err) {
    kill();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const url = (database: string) => `postgresql://${SUPERUSER}@localhost/${database}?host=${encodeURIComponent(dir)}&port=${PORT}`;
  const query = async <R extends pg.QueryResultRow>(target: string, sql: string, params: unknown[] = []) => {
    const client = new pg.Client({ connectionString: target });
    await client.connect();
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
  let databases = 0;
  return {
    url,
    query,
    async createDatabase(name = `test_${++databases}`) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      await query(url('postgres'), `CREATE DATABASE ${name}`);
      return url(name);
    },
    async stop() {
      try {
        run('pg_ctl', ['stop', '-w', '-m', 'fast', '-D', data]);
      } finally {
        process.off('exit', kill);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

