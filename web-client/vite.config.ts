import { defineConfig } from 'vite';
import { threadedWasmPlugin } from './build/threaded-wasm-plugin.ts';

// In dev, vite serves the page and forwards the hub's routes, so the tab talks to "its" origin as in production.
const hub = process.env.FL_HUB_URL ?? 'http://localhost:5000';

export default defineConfig({
  // The hub serves the built page under /client/.
  base: '/client/',
  server: {
    proxy: {
      '/socket.io': { target: hub, ws: true, changeOrigin: true },
      '/api': { target: hub, changeOrigin: true },
      '/data': { target: hub, changeOrigin: true },
    },
  },
  // The training worker is a module worker; 'es' lets it share chunks and keep TF.js's dynamic imports.
  worker: { format: 'es', plugins: () => [threadedWasmPlugin()] },
  plugins: [threadedWasmPlugin()],
  build: {
    outDir: 'dist',
    // bench.html is the browser half of `pnpm bench`.
    rollupOptions: { input: { main: 'index.html', bench: 'bench.html' } },
    // TF.js alone is ~1.5 MB minified; one chunk is fine for a page that then trains for minutes.
    chunkSizeWarningLimit: 2500,
  },
});
