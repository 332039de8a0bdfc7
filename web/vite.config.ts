import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// The Rust server (`meridian serve`) listens here by default.
const SERVER = process.env.MERIDIAN_DEV_SERVER ?? 'http://127.0.0.1:8080';
const proxy = Object.fromEntries(
  ['/api', '/health', '/ready', '/metrics'].map((path) => [path, { target: SERVER, changeOrigin: false }]),
);

export default defineConfig({
  plugins: [react()],
  // Absolute base: deep links such as /crm/deals/42 are served index.html by the
  // server's client-route fallback, and must still find /assets/*.
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: true,
    proxy,
  },
  preview: { host: '127.0.0.1', port: 4173, proxy },
  test: {
    environment: 'jsdom',
    globals: false,
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
    restoreMocks: true,
    unstubGlobals: true,
    // Correctness tests, not timed ones: a loaded 2-core CI machine must not fail them.
    testTimeout: 30_000,
  },
});
