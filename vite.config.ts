import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Three pages: the app (index.html), the in-browser kernel checks (checks.html), which the
// e2e suite opens to prove the WGSL also compiles and runs on Chromium's compiler, and the
// GPT-2-shape benchmark (bench.html, run by `npm run bench:gpu`).
export default defineConfig({
  plugins: [react()],
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    rollupOptions: {
      input: {
        main: resolve(import.meta.dirname, 'index.html'),
        checks: resolve(import.meta.dirname, 'checks.html'),
        bench: resolve(import.meta.dirname, 'bench.html'),
      },
    },
  },
  server: { port: 5173 },
});
