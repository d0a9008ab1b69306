/** Every workflow the worker registers. */
export { planStartup, planQuery } from './plan.js';
