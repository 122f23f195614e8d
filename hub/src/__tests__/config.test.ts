import { describe, expect, it } from 'vitest';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config';
import { tempDataDir } from './support/test-hub';

const mode = (file: string) => statSync(file).mode & 0o777;

describe('loadConfig: the admin token', () => {
  it('is generated once into DATA_DIR/admin-token (0600) and read back at the next start', () => {
    const dataDir = tempDataDir();
    const first = loadConfig({ DATA_DIR: dataDir });
    const file = join(dataDir, 'admin-token');
    expect(first.adminTokenFile).toBe(file);
    expect(first.adminToken).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.adminToken);
    expect(mode(file)).toBe(0o600);
    expect(loadConfig({ DATA_DIR: dataDir }).adminToken).toBe(first.adminToken);
  });

  it('creates DATA_DIR when it does not exist yet, relative to where the command was run', () => {
    const cwd = tempDataDir();
    const config = loadConfig({ INIT_CWD: cwd, DATA_DIR: 'nested/data' });
    expect(config.adminTokenFile).toBe(join(cwd, 'nested/data/admin-token'));
    expect(existsSync(config.adminTokenFile!)).toBe(true);
  });

  it('tightens a kept file readable by others to 0600', () => {
    const dataDir = tempDataDir();
    writeFileSync(join(dataDir, 'admin-token'), 'kept-token\n');
    chmodSync(join(dataDir, 'admin-token'), 0o644);
    expect(loadConfig({ DATA_DIR: dataDir }).adminToken).toBe('kept-token');
    expect(mode(join(dataDir, 'admin-token'))).toBe(0o600);
  });

  it('is taken from ADMIN_TOKEN when set, which writes no file', () => {
    const dataDir = tempDataDir();
    const config = loadConfig({ DATA_DIR: dataDir, ADMIN_TOKEN: 'from-env' });
    expect(config).toMatchObject({ adminToken: 'from-env', adminTokenFile: null });
    expect(existsSync(join(dataDir, 'admin-token'))).toBe(false);
  });
});

describe('storage settings', () => {
  it('defaults to SQLite synchronous=FULL and 10 checkpoints per run, and takes both from the environment', () => {
    const dataDir = tempDataDir();
    expect(loadConfig({ DATA_DIR: dataDir })).toMatchObject({ sqliteSynchronous: 'FULL', keepCheckpoints: 10 });
    expect(loadConfig({ DATA_DIR: dataDir, SQLITE_SYNCHRONOUS: 'normal', KEEP_CHECKPOINTS: '3' })).toMatchObject({ sqliteSynchronous: 'NORMAL', keepCheckpoints: 3 });
  });

  it('refuses values it does not know with a message naming the variable', () => {
    const dataDir = tempDataDir();
    expect(() => loadConfig({ DATA_DIR: dataDir, SQLITE_SYNCHRONOUS: 'OFF' })).toThrow(/SQLITE_SYNCHRONOUS must be FULL or NORMAL/);
    expect(() => loadConfig({ DATA_DIR: dataDir, KEEP_CHECKPOINTS: '0' })).toThrow(/KEEP_CHECKPOINTS/);
  });
});

describe('loadConfig: DATABASE_URL', () => {
  it('keeps records in SQLite when unset, and takes a postgresql:// URL as it is', () => {
    const dataDir = tempDataDir();
    expect(loadConfig({ DATA_DIR: dataDir, ADMIN_TOKEN: 't' }).databaseUrl).toBeUndefined();
    const url = 'postgresql://fl@localhost:5432/hub';
    expect(loadConfig({ DATA_DIR: dataDir, ADMIN_TOKEN: 't', DATABASE_URL: url }).databaseUrl).toBe(url);
  });

  it('refuses what is not a PostgreSQL URL, saying what to set', () => {
    const dataDir = tempDataDir();
    expect(() => loadConfig({ DATA_DIR: dataDir, ADMIN_TOKEN: 't', DATABASE_URL: 'hub.sqlite' })).toThrow(/DATABASE_URL must be a URL: postgresql:\/\//);
    expect(() => loadConfig({ DATA_DIR: dataDir, ADMIN_TOKEN: 't', DATABASE_URL: 'mysql://x@y/z' })).toThrow('DATABASE_URL must start with postgresql://');
  });
});

describe('loadConfig: TRUST_PROXY', () => {
  it('believes no proxy when unset, and takes a number of proxies in front or a list of their addresses', () => {
    const dataDir = tempDataDir();
    expect(loadConfig({ DATA_DIR: dataDir, ADMIN_TOKEN: 't' }).trustProxy).toBeUndefined();
    expect(loadConfig({ DATA_DIR: dataDir, ADMIN_TOKEN: 't', TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ DATA_DIR: dataDir, ADMIN_TOKEN: 't', TRUST_PROXY: ' loopback, 10.0.0.0/8 ' }).trustProxy).toEqual(['loopback', '10.0.0.0/8']);
  });

  it('refuses what is neither, naming the variable', () => {
    const dataDir = tempDataDir();
    expect(() => loadConfig({ DATA_DIR: dataDir, ADMIN_TOKEN: 't', TRUST_PROXY: 'nginx' })).toThrow(/TRUST_PROXY must be a number of proxies, or a list of addresses/);
    expect(() => loadConfig({ DATA_DIR: dataDir, ADMIN_TOKEN: 't', TRUST_PROXY: '0' })).toThrow(/TRUST_PROXY as a number of proxies in front must be 1 to 10/);
  });
});
