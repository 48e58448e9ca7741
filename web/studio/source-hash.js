// The hash of the studio's sources, computed as functions/studio's Go test
// does: SHA-256 over each file's path, a NUL, its bytes and a NUL, in path
// order (index.html, package.json, package-lock.json, source-hash.js,
// vite.config.js and everything under src/).
import { createHash } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

export function sourceFiles(dir) {
  const files = ['index.html', 'package.json', 'package-lock.json', 'source-hash.js', 'vite.config.js']
  const walk = (rel) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = rel + '/' + e.name
      if (e.isDirectory()) walk(p)
      else files.push(p)
    }
  }
  walk('src')
  return files.sort()
}

export function sourceHash(dir) {
  const h = createHash('sha256')
  for (const f of sourceFiles(dir)) {
    h.update(f + '\0')
    h.update(readFileSync(join(dir, f)))
    h.update('\0')
  }
  return h.digest('hex')
}
