/** Software GPUs by name: WebGL renderers and WebGPU adapters (SwiftShader, llvmpipe, lavapipe, WARP). */
export const SOFTWARE_GPU = /swiftshader|llvmpipe|lavapipe|softpipe|software|microsoft basic render/i;

export function isSoftwareRenderer(renderer: string): boolean {
  return SOFTWARE_GPU.test(renderer);
}

/** The GPUAdapterInfo fields read here (adapter.info, or requestAdapterInfo() in older browsers). */
export interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  /** Chrome 156 reports it here; older browsers on the adapter itself. */
  isFallbackAdapter?: boolean;
}

/** What navigator.gpu offered the training worker. */
export type WebGpuProbe =
  | { available: false; reason: string }
  | { available: true; software: boolean; description: string };

/** "google swiftshader (fallback adapter)": the adapter's non-empty fields, as it reports them. */
export function describeAdapter(info: AdapterInfoLike, fallback: boolean): string {
  const fields = [info.vendor, info.architecture, info.device, info.description].filter((f): f is string => !!f?.trim());
  const unique = fields.filter((f, i) => fields.indexOf(f) === i).join(' ') || 'an adapter that reports no vendor';
  return `${unique}${fallback ? ' (fallback adapter)' : ''}`.slice(0, 200);
}

/**
 * Whether an adapter is software: the browser says it is a fallback adapter (a CPU implementation), or its
 * vendor, architecture or description names a software rasteriser. Chrome's SwiftShader adapter reports
 * vendor "google", architecture "swiftshader" and isFallbackAdapter true.
 */
export function classifyAdapter(info: AdapterInfoLike, adapterFallback?: boolean): WebGpuProbe & { available: true } {
  const fallback = info.isFallbackAdapter === true || adapterFallback === true;
  const named = [info.vendor, info.architecture, info.device, info.description].some((f) => !!f && SOFTWARE_GPU.test(f));
  return { available: true, software: fallback || named, description: describeAdapter(info, fallback) };
}
