import { describe, expect, it } from 'vitest';
import { isSoftwareRenderer, planBackend, planWasmThreads } from '../backend-plan';

const SWIFTSHADER = 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)';
const GPU = 'ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 (0x00002503) Direct3D11 vs_5_0 ps_5_0, D3D11)';

describe('isSoftwareRenderer', () => {
  it('recognises software rasterisers by their renderer string', () => {
    for (const r of [SWIFTSHADER, 'llvmpipe (LLVM 15.0.6, 256 bits)', 'softpipe', 'Microsoft Basic Render Driver', 'Google SwiftShader']) {
      expect(isSoftwareRenderer(r)).toBe(true);
    }
  });

  it('takes real GPUs for what they are', () => {
    for (const r of [GPU, 'Apple M2', 'ANGLE (Intel, Mesa Intel(R) UHD Graphics 620 (KBL GT2), OpenGL 4.6)']) {
      expect(isSoftwareRenderer(r)).toBe(false);
    }
  });
});

describe('planBackend', () => {
  it('picks webgl on a real GPU, with wasm and cpu behind it', () => {
    expect(planBackend('auto', { webgl2: true, renderer: GPU, software: false })).toEqual({ order: ['webgl', 'wasm', 'cpu'], reason: 'WebGL on a real GPU' });
  });

  it('picks wasm on software WebGL and says why', () => {
    expect(planBackend('auto', { webgl2: true, renderer: SWIFTSHADER, software: true })).toEqual({
      order: ['wasm', 'cpu'],
      reason: 'WebGL runs on SwiftShader (software): wasm is ~13x faster here',
    });
  });

  it('picks wasm without WebGL 2', () => {
    expect(planBackend('auto', { webgl2: false, renderer: null, software: false }).order).toEqual(['wasm', 'cpu']);
  });

  it('honours ?backend= and keeps the slower backends as fallbacks', () => {
    const software = { webgl2: true, renderer: SWIFTSHADER, software: true };
    expect(planBackend('webgl', software)).toEqual({ order: ['webgl', 'wasm', 'cpu'], reason: 'forced by ?backend=webgl' });
    expect(planBackend('wasm', software).order).toEqual(['wasm', 'cpu']);
    expect(planBackend('cpu', software).order).toEqual(['cpu']);
  });
});

describe('planWasmThreads', () => {
  const isolated = { logicalCores: 8, crossOriginIsolated: true };

  it('stays single-threaded unless threads are asked for', () => {
    expect(planWasmThreads('auto', isolated).threads).toBe(1);
    expect(planWasmThreads(1, isolated).threads).toBe(1);
  });

  it('gives the threads asked for on an isolated page, within what TF.js will run (half the logical cores)', () => {
    expect(planWasmThreads(4, isolated)).toEqual({ threads: 4, reason: '?threads=4' });
    expect(planWasmThreads(8, isolated).threads).toBe(4);
    expect(planWasmThreads(2, { logicalCores: 2, crossOriginIsolated: true }).threads).toBe(1);
  });

  it('says why it stays single-threaded on a page without cross-origin isolation', () => {
    expect(planWasmThreads(4, { logicalCores: 8, crossOriginIsolated: false })).toMatchObject({ threads: 1, reason: expect.stringContaining('cross-origin isolated') });
  });
});
