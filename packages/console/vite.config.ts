import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The server serves dist/ at / (packages/server/src/http/routes/console.ts); hashed names under
// assets/ let it cache them for a year.
// biome-ignore lint/style/noDefaultExport: vite reads the config from the default export
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, assetsDir: 'assets', chunkSizeWarningLimit: 800 },
  // `vite dev` against a local Warden: the API and the session cookie stay same-origin.
  server: { proxy: { '/v1': 'http://127.0.0.1:8080' } },
});
