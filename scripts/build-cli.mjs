#!/usr/bin/env node
/**
 * Part of `npm run build`: bundles the CLI (src/client/main.ts and everything it imports)
 * into dist/cli/ with esbuild, one chunk per lazily loaded command. The small libraries on
 * the hot path (zod, commander, smol-toml, yaml) go into the bundle, tree-shaken: zod alone
 * loads ~220 ES modules (all its locales) unbundled, about 80 ms of every command. The SDK,
 * dockerode and execa stay external: they load only in the commands that use them. The
 * worker's checker thread is a second entry (dist/cli/checker-thread.js).
 */
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

// Chunk names carry content hashes: clear the old ones so dist/ holds one build.
await rm('dist/cli', { recursive: true, force: true });

await build({
  // The checker thread (src/activities/checker.ts) is started from its own file beside the chunk that starts it.
  entryPoints: [
    { in: 'src/client/main.ts', out: 'main' },
    { in: 'src/activities/checker-thread.ts', out: 'checker-thread' },
  ],
  outdir: 'dist/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // @fastify/swagger(-ui) read files of their own package folders (__dirname): they stay packages.
  external: ['@temporalio/*', '@opentelemetry/*', 'dockerode', 'execa', '@fastify/swagger', '@fastify/swagger-ui'],
  // commander is CommonJS and requires Node built-ins; give the ESM bundle a require().
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
});
