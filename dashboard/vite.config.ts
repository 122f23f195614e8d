import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `pnpm dev` here talks to a hub started separately on its default port.
const hub = 'http://localhost:5000';

export default defineConfig({
  plugins: [react()],
  base: '/',
  server: {
    port: 5173,
    proxy: {
      '/api': hub,
      '/data': hub,
      '/socket.io': { target: hub, ws: true },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    rolldownOptions: {
      output: {
        // Libraries change less often than the page: separate chunks stay cached across dashboard builds.
        codeSplitting: {
          groups: [
            { name: 'charts', test: /node_modules[\\/].*(recharts|d3-|redux|immer|reselect|es-toolkit|decimal\.js|victory)/ },
            { name: 'react', test: /node_modules[\\/].*(react|scheduler)/ },
            { name: 'vendor', test: /node_modules/ },
          ],
        },
      },
    },
  },
});
