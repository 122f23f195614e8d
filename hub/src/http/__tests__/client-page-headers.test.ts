import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestHub, type TestHub } from '../../__tests__/support/test-hub';
import { withBlobScripts } from '../client-page-headers';

/** A built-pages folder with a page and an asset, as vite leaves web-client/dist and dashboard/dist. */
function pages(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `fl-${name}-`));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), `<!doctype html><title>${name}</title>`);
  writeFileSync(join(dir, 'assets', 'training-worker.js'), 'postMessage(1);');
  return dir;
}

describe('client page headers', () => {
  let hub: TestHub | undefined;
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });

  it('serves the client page and its assets cross-origin isolated (COOP same-origin, COEP require-corp), the dashboard not', async () => {
    hub = await startTestHub({ clientDir: pages('client'), dashboardDir: pages('dashboard') });
    for (const url of ['/client/', '/client/index.html', '/client/assets/training-worker.js']) {
      const response = await hub.app.inject({ url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['cross-origin-opener-policy'], url).toBe('same-origin');
      expect(response.headers['cross-origin-embedder-policy'], url).toBe('require-corp');
      // TF.js's wasm threads start from Blob scripts.
      expect(String(response.headers['content-security-policy']), url).toContain("script-src 'self' 'wasm-unsafe-eval' blob:;");
    }
    for (const url of ['/', '/assets/training-worker.js', '/api/status']) {
      const response = await hub.app.inject({ url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['cross-origin-embedder-policy'], url).toBeUndefined();
      expect(String(response.headers['content-security-policy']), url).toContain("script-src 'self' 'wasm-unsafe-eval';");
    }
  });

  it('adds blob: to script-src once and leaves the other directives alone', () => {
    const policy = "default-src 'self';script-src 'self' 'wasm-unsafe-eval';worker-src 'self' blob:";
    expect(withBlobScripts(policy)).toBe("default-src 'self';script-src 'self' 'wasm-unsafe-eval' blob:;worker-src 'self' blob:");
    expect(withBlobScripts(withBlobScripts(policy))).toBe(withBlobScripts(policy));
    expect(withBlobScripts("script-src 'self'")).toBe("script-src 'self' blob:");
  });
});
