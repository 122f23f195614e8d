import { describe, expect, it } from 'vitest';
import { probeWebGpu } from '../webgpu-probe';
import { classifyAdapter, describeAdapter } from '../gpu-kind';

// Chrome 156's SwiftShader adapter, as the training worker read it here (adapter.info).
const SWIFTSHADER_INFO = { vendor: 'google', architecture: 'swiftshader', device: '', description: '', isFallbackAdapter: true };

/** A navigator whose gpu answers requestAdapter() with `answer` (the browser's own is driven by the e2e spec). */
function scopeWith(answer: () => Promise<unknown>, secure = true) {
  return { isSecureContext: secure, navigator: { gpu: { requestAdapter: answer } } };
}

describe('classifyAdapter', () => {
  it("takes Chrome's SwiftShader adapter for software, by isFallbackAdapter and by name", () => {
    expect(classifyAdapter(SWIFTSHADER_INFO)).toEqual({ available: true, software: true, description: 'google swiftshader (fallback adapter)' });
    expect(classifyAdapter({ ...SWIFTSHADER_INFO, isFallbackAdapter: undefined }).software).toBe(true);
    expect(classifyAdapter({ vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }).software).toBe(true);
    expect(classifyAdapter({ vendor: 'intel' }, true).software).toBe(true);
  });

  it('takes real GPUs for what they are', () => {
    for (const info of [{ vendor: 'nvidia', architecture: 'ampere' }, { vendor: 'apple', architecture: 'metal-3' }, { vendor: 'intel', architecture: 'gen-12lp', isFallbackAdapter: false }]) {
      expect(classifyAdapter(info).software).toBe(false);
    }
  });

  it('describes an adapter that reports nothing', () => {
    expect(describeAdapter({}, false)).toBe('an adapter that reports no vendor');
  });
});

describe('probeWebGpu', () => {
  it('says unavailable, with the reason, outside a secure context, without navigator.gpu, without an adapter and when the request throws', async () => {
    expect(await probeWebGpu(scopeWith(async () => ({ info: SWIFTSHADER_INFO }), false))).toEqual({ available: false, reason: 'not a secure context (WebGPU needs https or localhost)' });
    expect(await probeWebGpu({ isSecureContext: true, navigator: {} })).toEqual({ available: false, reason: 'no navigator.gpu in this browser (WebGPU is off or not supported)' });
    expect(await probeWebGpu(scopeWith(async () => null))).toEqual({ available: false, reason: 'no WebGPU adapter (navigator.gpu.requestAdapter() returned null)' });
    expect(await probeWebGpu(scopeWith(async () => Promise.reject(new Error('GPU process crashed'))))).toEqual({ available: false, reason: 'navigator.gpu.requestAdapter() failed: GPU process crashed' });
  });

  it('reads adapter.info, or requestAdapterInfo() and isFallbackAdapter on older browsers', async () => {
    expect(await probeWebGpu(scopeWith(async () => ({ info: SWIFTSHADER_INFO })))).toMatchObject({ available: true, software: true });
    const older = { requestAdapterInfo: async () => ({ vendor: 'nvidia', architecture: 'turing' }), isFallbackAdapter: false };
    expect(await probeWebGpu(scopeWith(async () => older))).toEqual({ available: true, software: false, description: 'nvidia turing' });
  });
});
