#!/usr/bin/env node
/**
 * Part of `npm run build`: bundles the compiled workflows once into dist/workflow-bundle.js,
 * so a worker started from dist/ loads it (`workflowBundle: { codePath }`) instead of
 * running webpack at every start.
 */
import { writeFile } from 'node:fs/promises';

const { bundleWorkflows, PREBUILT_BUNDLE } = await import('../dist/worker/bundle.js');
const bundle = await bundleWorkflows();
await writeFile(PREBUILT_BUNDLE, bundle.code);
