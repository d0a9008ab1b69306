#!/usr/bin/env node
// The `provisioning` command. Runs the bundled CLI from dist/cli/ (built by `npm run setup` or `npm run build`);
// PROVISIONING_FROM_SOURCE=1 runs the TypeScript sources through tsx instead (development, tests).
import { existsSync } from 'node:fs';

const fromSource = process.env.PROVISIONING_FROM_SOURCE === '1';
const compiled = new URL('../dist/cli/main.js', import.meta.url);

if (!fromSource && existsSync(compiled)) {
  await import(compiled.href);
} else if (fromSource) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/client/main.ts', import.meta.url).href);
} else {
  process.stderr.write('provisioning: dist/ is missing; run "npm run setup" (or "npm run build") in the checkout first.\n');
  process.exitCode = 2;
}
