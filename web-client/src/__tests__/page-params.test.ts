import { describe, expect, it } from 'vitest';
import { readPageParams } from '../page-params';
import { normalizeTabName } from '../tab-name';

function at(url: string) {
  const u = new URL(url);
  return { search: u.search, origin: u.origin, href: u.href };
}

describe('readPageParams', () => {
  it('connects to the hub that served the page by default', () => {
    expect(readPageParams(at('http://10.0.0.5:5000/client/'))).toEqual({
      hubUrl: 'http://10.0.0.5:5000',
      joinToken: undefined,
      backend: 'auto',
      name: undefined,
      threads: 'auto',
      warnings: [],
    });
  });

  it('reads ?hub=, ?join=, ?backend= and ?name=', () => {
    const params = readPageParams(at('http://localhost:5173/client/?hub=http://192.168.1.9:5000/x&join=s3cret&backend=cpu&name=%20lab%20pc%20'));
    expect(params).toMatchObject({ hubUrl: 'http://192.168.1.9:5000', joinToken: 's3cret', backend: 'cpu', name: 'lab pc' });
  });

  it('reads every backend ?backend= can force, webgpu among them', () => {
    for (const backend of ['webgpu', 'webgl', 'wasm', 'cpu', 'auto'] as const) {
      expect(readPageParams(at(`http://localhost:5000/client/?backend=${backend}`))).toMatchObject({ backend, warnings: [] });
    }
  });

  it('says so when a parameter is not understood, instead of ignoring it', () => {
    const params = readPageParams(at('http://localhost:5000/client/?backend=gpu&hub=http://'));
    expect(params.backend).toBe('auto');
    expect(params.hubUrl).toBe('http://localhost:5000');
    expect(params.warnings).toHaveLength(2);
    expect(params.warnings).toContain('?backend=gpu is not webgpu, webgl, wasm or cpu; choosing automatically');
  });

  it('reads ?threads=1..8 and refuses anything else with a warning', () => {
    expect(readPageParams(at('http://localhost:5000/client/?threads=4')).threads).toBe(4);
    expect(readPageParams(at('http://localhost:5000/client/?threads=auto')).warnings).toEqual([]);
    for (const bad of ['0', '9', '2.5', 'many']) {
      const params = readPageParams(at(`http://localhost:5000/client/?threads=${bad}`));
      expect(params.threads).toBe('auto');
      expect(params.warnings).toEqual([`?threads=${bad} is not a number from 1 to 8; choosing automatically`]);
    }
  });
});

describe('normalizeTabName', () => {
  it('trims and collapses spaces, caps the length, refuses empty names', () => {
    expect(normalizeTabName('  lab   pc \n')).toBe('lab pc');
    expect(normalizeTabName('x'.repeat(100))).toHaveLength(80);
    expect(normalizeTabName('   ')).toBeNull();
  });
});
