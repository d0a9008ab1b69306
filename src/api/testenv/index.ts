/** Test environments through the client API. */
export * from './environments.js';
export * from './logs.js';
export * from './plan.js';
export * from './quick.js';
export * from './reaper.js';
