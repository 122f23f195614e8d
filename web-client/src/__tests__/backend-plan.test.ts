import { describe, expect, it } from 'vitest';
import { afterWebGpuProbe, isSoftwareRenderer, planBackend, planWasmThreads } from '../backend-plan';
import type { WebGpuProbe } from '../gpu-kind';

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
    expect(planBackend('auto', { webgl2: true, renderer: GPU, software: false })).toEqual({ order: ['webgl', 'wasm', 'cpu'], reason: 'WebGL on a real GPU', timeWebGpu: false });
  });

  it('picks wasm on software WebGL and says why', () => {
    expect(planBackend('auto', { webgl2: true, renderer: SWIFTSHADER, software: true })).toEqual({
      order: ['wasm', 'cpu'],
      reason: 'WebGL runs on SwiftShader (software): wasm is ~13x faster here',
      timeWebGpu: false,
    });
  });

  it('picks wasm without WebGL 2', () => {
    expect(planBackend('auto', { webgl2: false, renderer: null, software: false }).order).toEqual(['wasm', 'cpu']);
  });

  it('honours ?backend= and keeps the slower backends as fallbacks', () => {
    const software = { webgl2: true, renderer: SWIFTSHADER, software: true };
    expect(planBackend('webgl', software)).toEqual({ order: ['webgl', 'wasm', 'cpu'], reason: 'forced by ?backend=webgl', timeWebGpu: false });
    expect(planBackend('wasm', software).order).toEqual(['wasm', 'cpu']);
    expect(planBackend('cpu', software).order).toEqual(['cpu']);
  });
});

const SOFTWARE_WEBGL = { webgl2: true, renderer: SWIFTSHADER, software: true };
const GPU_WEBGL = { webgl2: true, renderer: GPU, software: false };
const NO_ADAPTER: WebGpuProbe = { available: false, reason: 'no WebGPU adapter (navigator.gpu.requestAdapter() returned null)' };
const SWIFTSHADER_ADAPTER: WebGpuProbe = { available: true, software: true, description: 'google swiftshader (fallback adapter)' };
const GPU_ADAPTER: WebGpuProbe = { available: true, software: false, description: 'nvidia ampere' };

describe('planBackend with WebGPU', () => {
  it('forced ?backend=webgpu tries webgpu first, then what auto would take', () => {
    const plan = planBackend('webgpu', SOFTWARE_WEBGL, SWIFTSHADER_ADAPTER);
    expect(plan.order).toEqual(['webgpu', 'wasm', 'cpu']);
    expect(plan.reason).toBe('forced by ?backend=webgpu on a software adapter (google swiftshader (fallback adapter))');
    expect(plan.webgpu).toEqual({ adapter: 'software', description: 'google swiftshader (fallback adapter)', reason: 'forced by ?backend=webgpu' });
    expect(plan.timeWebGpu).toBe(false);
  });

  it('forced ?backend=webgpu without an adapter says so and falls back to the automatic choice', () => {
    const plan = planBackend('webgpu', SOFTWARE_WEBGL, NO_ADAPTER);
    expect(plan.order).toEqual(['wasm', 'cpu']);
    expect(plan.reason).toBe(
      'forced by ?backend=webgpu, but WebGPU is unavailable (no WebGPU adapter (navigator.gpu.requestAdapter() returned null)); choosing automatically: WebGL runs on SwiftShader (software): wasm is ~13x faster here',
    );
    expect(plan.webgpu).toEqual({ adapter: 'unavailable', reason: NO_ADAPTER.reason });
  });

  it('auto does not use a software adapter, nor time it, and says why', () => {
    const plan = planBackend('auto', SOFTWARE_WEBGL, SWIFTSHADER_ADAPTER);
    expect(plan.order).toEqual(['wasm', 'cpu']);
    expect(plan.timeWebGpu).toBe(false);
    expect(plan.reason).toContain('; WebGPU not used: its adapter (google swiftshader (fallback adapter)) is software');
    expect(plan.webgpu).toMatchObject({ adapter: 'software', reason: 'not used: its adapter (google swiftshader (fallback adapter)) is software' });
  });

  it('auto without an adapter reports WebGPU unavailable beside its choice', () => {
    const plan = planBackend('auto', GPU_WEBGL, NO_ADAPTER);
    expect(plan.order).toEqual(['webgl', 'wasm', 'cpu']);
    expect(plan.timeWebGpu).toBe(false);
    expect(plan.reason).toBe(`WebGL on a real GPU; WebGPU unavailable: ${NO_ADAPTER.reason}`);
  });

  it('auto on a real GPU adapter asks for the speed probe against what it would take otherwise', () => {
    expect(planBackend('auto', GPU_WEBGL, GPU_ADAPTER)).toMatchObject({ order: ['webgl', 'wasm', 'cpu'], timeWebGpu: true, webgpu: { adapter: 'gpu', description: 'nvidia ampere' } });
    expect(planBackend('auto', SOFTWARE_WEBGL, GPU_ADAPTER)).toMatchObject({ order: ['wasm', 'cpu'], timeWebGpu: true, webgpu: { reason: expect.stringContaining('against wasm') } });
  });

  it('forced webgl, wasm or cpu does not look at WebGPU', () => {
    expect(planBackend('wasm', SOFTWARE_WEBGL, null).webgpu).toBeUndefined();
  });
});

describe('afterWebGpuProbe', () => {
  const plan = planBackend('auto', GPU_WEBGL, GPU_ADAPTER);

  it('puts WebGPU first when it measured faster, with the figures', () => {
    const decided = afterWebGpuProbe(plan, { ms: 8 }, { ms: 12.5 });
    expect(decided.order).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(decided.reason).toBe("WebGPU on a real GPU: 8.0 ms/batch against webgl's 12.5 in the speed probe");
    expect(decided.webgpu).toEqual({ adapter: 'gpu', description: 'nvidia ampere', reason: "used: 8.0 ms/batch against webgl's 12.5 in the speed probe", probe: { webgpu: 8, other: 'webgl', otherMs: 12.5 } });
    expect(decided.timeWebGpu).toBe(false);
  });

  it('keeps the plan when WebGPU measured slower, or as fast', () => {
    for (const webgpu of [20, 12.5]) {
      const decided = afterWebGpuProbe(plan, { ms: webgpu }, { ms: 12.5 });
      expect(decided.order).toEqual(['webgl', 'wasm', 'cpu']);
      expect(decided.reason).toMatch(/^WebGL on a real GPU; WebGPU not used: .* ms\/batch against webgl's 12.5 in the speed probe$/);
    }
  });

  it('keeps the plan and says why when WebGPU failed in the probe', () => {
    const decided = afterWebGpuProbe(plan, { failed: 'device lost' }, { ms: 12.5 });
    expect(decided.order).toEqual(['webgl', 'wasm', 'cpu']);
    expect(decided.webgpu?.reason).toBe('failed in the speed probe (device lost): not used');
  });

  it('takes WebGPU when the other backend failed in the probe, and drops that one', () => {
    const decided = afterWebGpuProbe(plan, { ms: 30 }, { failed: 'context lost' });
    expect(decided.order).toEqual(['webgpu', 'wasm', 'cpu']);
    expect(decided.reason).toContain('webgl failed in the speed probe (context lost)');
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
