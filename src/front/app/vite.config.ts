/**
 * Dashboard build: root is this folder, output `<repo>/dist/front` (index.html + hashed assets),
 * which the binary embeds. Offline by construction: no plugin fetches anything, and the bundle
 * references only its own origin.
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = decodeURIComponent(new URL('.', import.meta.url).pathname);

export default defineConfig({
  root,
  base: './',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: '../../../dist/front',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    assetsInlineLimit: 4096,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 600,
  },
});
