import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{shared,hub,web-client,dashboard}/src/**/*.{test,spec}.ts'],
    // TF.js on wasm and whole federated runs are CPU-bound on a 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
