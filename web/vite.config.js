import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';

// `npm run dev` proxies the JSON API and the old system's routes to a running
// `leadscore serve` (default http://127.0.0.1:8000; LEADSCORE_URL to change).
const target = process.env.LEADSCORE_URL || 'http://127.0.0.1:8000';
const proxied = ['/api', '/upload', '/train', '/predict', '/chat', '/prediction-history'];

export default defineConfig({
  plugins: [react(), tailwindcss()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: Object.fromEntries(proxied.map((p) => [p, { target, changeOrigin: false }])),
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{js,jsx}'],
    setupFiles: ['src/test/setup.js'],
    testTimeout: 30000,
  },
});
