import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'
import { sourceHash } from './source-hash.js'

// The build goes into functions/studio/assets, which the Go binary embeds;
// source.sha256 there records which sources it was built from, and a Go
// test checks that it still matches them.
export default defineConfig({
  base: './',
  plugins: [react(), {
    name: 'routebot-source-hash',
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'source.sha256', source: sourceHash(import.meta.dirname) + '\n' })
    },
  }],
  // npm run dev serves the page with hot reload; its API calls go to a
  // local run (go run ./cmd/local) on :8080.
  server: {
    proxy: { '/api': { target: 'http://localhost:8080', rewrite: (p) => '/studio' + p } },
  },
  build: {
    outDir: '../../functions/studio/assets',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1000,
  },
})
