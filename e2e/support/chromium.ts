/**
 * Headless Chromium as it works on these machines (see ENVIRONMENT.md): WebGL 2 through SwiftShader, and no
 * background traffic, which this machine's closed network would refuse. Shared by Playwright and `pnpm bench`.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Debian's Chromium unless CHROMIUM_PATH points elsewhere; Playwright's own browsers cannot be downloaded here. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * CHROMIUM_ARGS plus WebGPU on SwiftShader: with these, navigator.gpu.requestAdapter() on http://localhost (a
 * secure context) returns a software adapter, in dedicated workers too. Only for the WebGPU spec and bench row.
 */
export const WEBGPU_CHROMIUM_ARGS = [...CHROMIUM_ARGS, '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-webgpu-adapter=swiftshader'];
