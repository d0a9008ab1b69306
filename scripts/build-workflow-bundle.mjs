#!/usr/bin/env node
/**
 * Part of `npm run build`: bundles the compiled workflows once into dist/workflow-bundle.js,
 * so a worker started from dist/ loads it (`workflowBundle: { codePath }`) instead of
 * running webpack at every start; and dist/workflow-bundle-traced.js, the same with the
 * OpenTelemetry workflow interceptors, for workers that trace.
 */
import { writeFile } from 'node:fs/promises';

const { bundleWorkflows, PREBUILT_BUNDLE, PREBUILT_TRACED_BUNDLE } = await import('../dist/worker/bundle.js');
await writeFile(PREBUILT_BUNDLE, (await bundleWorkflows()).code);
// With the OpenTelemetry workflow interceptors, for workers started with OTEL_EXPORTER_OTLP_ENDPOINT.
await writeFile(PREBUILT_TRACED_BUNDLE, (await bundleWorkflows({ traced: true })).code);
