import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { epsilonFor, noiseForEpsilon } from '@fl/shared/privacy/index';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const tsx = resolve(repoRoot, 'node_modules/.bin/tsx');

/** Runs `pnpm privacy` the way the root script does (tsx from the repo root) and collects its output. */
function privacyCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(tsx, ['hub/src/cli/privacy.ts', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

const base = ['--sampling-rate', '0.01', '--rounds', '1000', '--delta', '1e-5'];

describe('pnpm privacy', () => {
  it('prints one JSON line with the epsilon, delta and order epsilonFor gives', async () => {
    const run = await privacyCli([...base, '--noise-multiplier', '1.1']);
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(1);
    const expected = epsilonFor({ samplingRate: 0.01, noiseMultiplier: 1.1, rounds: 1000, delta: 1e-5 });
    expect(JSON.parse(run.stdout)).toEqual({ epsilon: expected.epsilon, delta: 1e-5, order: expected.order });
  });

  it('with --target-epsilon prints the smallest noise multiplier meeting it and the epsilon that noise gives', async () => {
    const run = await privacyCli([...base, '--target-epsilon', '2']);
    expect(run.code).toBe(0);
    const noiseMultiplier = noiseForEpsilon({ samplingRate: 0.01, rounds: 1000, delta: 1e-5, targetEpsilon: 2 });
    const spent = epsilonFor({ samplingRate: 0.01, noiseMultiplier, rounds: 1000, delta: 1e-5 });
    const printed = JSON.parse(run.stdout) as Record<string, number>;
    expect(printed).toEqual({ noiseMultiplier, epsilon: spent.epsilon, delta: 1e-5, order: spent.order });
    expect(printed.epsilon).toBeLessThanOrEqual(2);
  });

  it.each([
    { args: [...base, '--noise-multiplier', 'abc'], flag: '--noise-multiplier' },
    { args: ['--sampling-rate', '1.5', '--rounds', '10', '--delta', '1e-5', '--noise-multiplier', '1'], flag: '--sampling-rate' },
    { args: ['--sampling-rate', '0.1', '--rounds', '10', '--noise-multiplier', '1'], flag: '--delta' },
    { args: [...base, '--noise-multiplier', '1', '--epsilon', '2'], flag: '--epsilon' },
    { args: [...base, '--noise-multiplier', '1', '--target-epsilon', '2'], flag: '--target-epsilon' },
  ])('exits 2 naming $flag on stderr when it is bad or missing', async ({ args, flag }) => {
    const run = await privacyCli(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    // The first line is the complaint; the usage text after it names every flag.
    expect(run.stderr.split('\n')[0]).toContain(flag);
  });
});
