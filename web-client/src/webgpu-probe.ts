import { classifyAdapter, type AdapterInfoLike, type WebGpuProbe } from './gpu-kind';

/** The slice of WebGPU read here; TypeScript's DOM lib has no WebGPU types yet. */
interface AdapterLike {
  info?: AdapterInfoLike;
  /** Older browsers: before adapter.info. */
  requestAdapterInfo?: () => Promise<AdapterInfoLike>;
  /** Older browsers: before adapter.info.isFallbackAdapter. */
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<AdapterLike | null>;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Asks navigator.gpu for the adapter TF.js's WebGPU backend would get (it asks for high-performance) and says
 * whether it is a real GPU. Loads no TF.js code: the webgpu backend is imported only when it will be used.
 */
export async function probeWebGpu(scope: { isSecureContext?: boolean; navigator?: unknown } = globalThis): Promise<WebGpuProbe> {
  if (scope.isSecureContext === false) return { available: false, reason: 'not a secure context (WebGPU needs https or localhost)' };
  const gpu = (scope.navigator as { gpu?: GpuLike } | undefined)?.gpu;
  if (!gpu) return { available: false, reason: 'no navigator.gpu in this browser (WebGPU is off or not supported)' };
  let adapter: AdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    return { available: false, reason: `navigator.gpu.requestAdapter() failed: ${message(error)}` };
  }
  if (!adapter) return { available: false, reason: 'no WebGPU adapter (navigator.gpu.requestAdapter() returned null)' };
  let info: AdapterInfoLike = {};
  try {
    info = adapter.info ?? (await adapter.requestAdapterInfo?.()) ?? {};
  } catch {
    // An adapter that will not describe itself is judged by isFallbackAdapter alone.
  }
  return classifyAdapter(info, adapter.isFallbackAdapter);
}
