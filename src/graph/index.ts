export * from './graph.js';
export * from './order.js';
export * from './critical-path.js';
export * from './walk.js';
export * from './critical-chain.js';
